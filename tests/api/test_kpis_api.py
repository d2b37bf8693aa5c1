"""POST /api/v1/kpis over real HTTP, on SQLite and PostgreSQL: auth, idempotency, refusals that write nothing."""

from __future__ import annotations

import datetime as dt
import json

from bot.services import api_tokens
from tests.api.conftest import Api, make_token
from tests.imports.samples import metrics, stored

NOV1 = dt.date(2026, 11, 1)
BATCH = {"items": [
    {"date": "2026-11-01", "channel": "天猫", "values": {"gmv": 12500, "orders": 310, "ctr": "2.5%"}},
    {"date": "2026-11-02", "channel": "天猫", "values": {"gmv": "¥1.3万", "orders": 320.0}},
    {"date": "2026-11-01", "values": {"visits": "12,500"}},
]}


def test_a_batch_is_stored_and_sending_it_again_changes_nothing(api: Api) -> None:
    status, body = api.post(BATCH)
    assert status == 200, body
    assert body == {"values": 6, "inserted": 6, "replaced": 0, "unchanged": 0,
                    "metrics_created": ["gmv", "orders", "ctr", "visits"]}
    values = stored(api.bot.db, api.team_id)
    assert values == {
        ("gmv", "天猫", NOV1): "12500", ("orders", "天猫", NOV1): "310", ("ctr", "天猫", NOV1): "0.025",
        ("gmv", "天猫", dt.date(2026, 11, 2)): "13000", ("orders", "天猫", dt.date(2026, 11, 2)): "320",
        ("visits", "", NOV1): "12500",
    }
    assert metrics(api.bot.db, api.team_id)["ctr"] == ("%", "avg")

    status, body = api.post(BATCH)
    assert (status, body["inserted"], body["replaced"], body["unchanged"]) == (200, 0, 0, 6)
    assert stored(api.bot.db, api.team_id) == values

    status, body = api.post({"items": [{"date": "2026-11-01", "channel": "天猫", "values": {"GMV": 12600, "ctr": 3}}]})
    assert (status, body["replaced"], body["metrics_created"]) == (200, 2, [])
    values = stored(api.bot.db, api.team_id)
    assert values[("gmv", "天猫", NOV1)] == "12600"
    assert values[("ctr", "天猫", NOV1)] == "0.03", "a bare number on a % metric is percentage points"


def test_channels_keep_their_first_spelling(api: Api) -> None:
    assert api.post({"items": [{"date": "2026-11-01", "channel": "JD", "values": {"gmv": 1}}]})[0] == 200
    assert api.post({"items": [{"date": "2026-11-02", "channel": " jd ", "values": {"gmv": 2}}]})[0] == 200
    assert {k[1] for k in stored(api.bot.db, api.team_id)} == {"JD"}


def test_a_refused_item_refuses_the_batch_with_reasons_and_writes_nothing(api: Api) -> None:
    api.post({"items": [{"date": "2026-10-01", "values": {"gmv": "¥1"}}]})
    before = stored(api.bot.db, api.team_id)
    status, body = api.post({"items": [
        {"date": "2026-11-01", "channel": "天猫", "values": {"gmv": 12500}},
        {"date": "2026-11-31", "values": {"gmv": 1}},
        {"date": "2026-11-02", "values": {"gmv": "lots", "orders": None, " ": 3}},
        {"date": "2026-11-03", "values": {"gmv": "$5"}},
        {"date": "2026-11-01", "channel": "天猫", "values": {"gmv": 1}},
        {"date": "2026-11-04", "values": {}},
        "not an item",
    ]})
    assert status == 422
    reasons = {(e["item"], e["field"]): e["reason"] for e in body["errors"]}
    assert reasons[(1, "date")] == "a date is YYYY-MM-DD"
    assert reasons[(2, "values.gmv")] == "'lots' is not a number"
    assert "number or a string" in reasons[(2, "values.orders")]
    assert "metric name" in reasons[(2, "values. ")]
    assert "$" in reasons[(3, "values.gmv")] and "¥" in reasons[(3, "values.gmv")]
    assert reasons[(4, "values.gmv")] == "item 0 already gives gmv for this channel and day"
    assert (5, "values") in reasons and (6, "") in reasons
    assert 0 not in {e["item"] for e in body["errors"]}
    assert stored(api.bot.db, api.team_id) == before


def test_a_count_below_zero_refuses_the_batch(api: Api) -> None:
    status, body = api.post({"items": [{"date": "2026-11-01", "values": {"gmv": -120, "orders": -3}}]})
    assert status == 422 and "is a count and cannot be -3" in body["errors"][0]["reason"], body
    assert stored(api.bot.db, api.team_id) == {}


def test_ratio_metrics_take_no_values(api: Api) -> None:
    from bot.services import kpis

    with api.bot.db.session() as session:
        kpis.define_metric(session, workspace_id=api.team_id, user_id="U1",
                           spec=kpis.MetricSpec("conversion", numerator="orders", denominator="visits"))
    status, body = api.post({"items": [{"date": "2026-11-01", "values": {"orders": 3, "conversion": "3%"}}]})
    assert status == 422 and "ratio" in body["errors"][0]["reason"]
    assert stored(api.bot.db, api.team_id) == {}


def test_tokens(api: Api) -> None:
    assert api.post(BATCH, token="mkt_not-a-token")[0] == 401
    status, headers, body = api.request("POST", "/api/v1/kpis", json.dumps(BATCH).encode(),
                                        {"Content-Type": "application/json"})
    assert status == 401 and headers["www-authenticate"].startswith("Bearer") and "Bearer" in body["error"]
    status, _, _ = api.request("POST", "/api/v1/kpis", json.dumps(BATCH).encode(),
                               {"Content-Type": "application/json", "Authorization": f"Basic {api.token}"})
    assert status == 401
    # a token writes to its own workspace only
    other = "T" + api.team_id[1:][::-1]
    other_token = make_token(api.bot.db, other)
    assert api.post(BATCH, token=other_token)[0] == 200
    assert stored(api.bot.db, api.team_id) == {} and len(stored(api.bot.db, other)) == 6
    with api.bot.db.session() as session:
        [info] = api_tokens.list_tokens(session, workspace_id=other)
        assert info.last_used_at is not None
        api_tokens.revoke_token(session, workspace_id=other, token_id=info.id)
    assert api.post(BATCH, token=other_token)[0] == 401


def test_bodies_the_api_refuses(api: Api) -> None:
    auth = {"Authorization": f"Bearer {api.token}"}
    json_auth = {**auth, "Content-Type": "application/json"}
    huge = b'{"items": [' + b" " * 4_000_001 + b"]}"
    assert api.request("POST", "/api/v1/kpis", huge, json_auth)[0] == 413
    assert api.request("POST", "/api/v1/kpis", b"{not json", json_auth)[0] == 400
    assert api.request("POST", "/api/v1/kpis", b"[1, 2]", json_auth)[0] == 400
    assert api.request("POST", "/api/v1/kpis", b'{"items": [{"date": "2026-11-01", "values": {"a": NaN}}]}',
                       json_auth)[0] == 400
    assert api.request("POST", "/api/v1/kpis", json.dumps(BATCH).encode(), {**auth, "Content-Type": "text/csv"})[0] == 415
    status, body = api.post({"items": []})
    assert status == 422 and body["errors"] == [{"item": None, "field": "items", "reason": "no items"}]
    status, headers, _ = api.request("GET", "/api/v1/kpis", headers=auth)
    assert status == 405 and headers["allow"] == "POST"
    assert api.request("GET", "/api/v1/nothing")[0] == 404
    assert stored(api.bot.db, api.team_id) == {}


def test_the_openapi_document(api: Api) -> None:
    status, headers, document = api.request("GET", "/api/v1/openapi.json")
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert document["openapi"].startswith("3.") and "/api/v1/kpis" in document["paths"]


def test_the_slack_path_is_unchanged(api: Api) -> None:
    assert api.request("POST", "/slack/events", b"token=x", {"Content-Type": "application/x-www-form-urlencoded"})[0] == 401
    assert api.request("GET", "/healthz")[0] == 200
