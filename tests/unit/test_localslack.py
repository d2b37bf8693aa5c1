"""LocalSlack against the real slack_sdk client, checked with Slack's own payloads and spec."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.localslack import LocalSlack, Message, sign, verify
from tests.support import slack_spec

PAYLOADS = Path(__file__).resolve().parents[2] / "tests" / "slack" / "payloads"
TS_RE = re.compile(r"^\d{10}\.\d{6}$")

ALICE, BOB = "U0ALICE", "U0BOB"
GENERAL, MARKETING = "C0GENERAL", "C0MKT"


def _payload(name: str) -> dict[str, Any]:
    path = PAYLOADS / name
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


# ---- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    server = LocalSlack()
    server.add_user(ALICE, "alice", real_name="Alice Wong", tz="Asia/Shanghai", locale="zh-CN")
    server.add_user(BOB, "bob", real_name="Bob Stone", tz="America/New_York", locale="en-US")
    server.add_channel(GENERAL, "general", members=[ALICE, BOB])
    server.add_channel(MARKETING, "marketing", members=[ALICE])
    with server:
        yield server


@pytest.fixture
def client(slack: LocalSlack) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=5)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


Responder = Callable[[Received], tuple[int, bytes, str]]


@dataclass
class FakeBot:
    """A tiny HTTP endpoint standing in for the bot: records requests, answers via `responder`."""

    url: str
    received: list[Received] = field(default_factory=list)
    responder: Responder = lambda r: (200, b"", "text/plain")


@pytest.fixture
def fake_bot(slack: LocalSlack) -> Iterator[FakeBot]:
    bot = FakeBot(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            req = Received(self.path, dict(self.headers.items()), body)
            bot.received.append(req)
            status, answer, ctype = bot.responder(req)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    bot.url = f"http://127.0.0.1:{httpd.server_address[1]}/slack/events"
    slack.bot_url = bot.url
    yield bot
    httpd.shutdown()
    httpd.server_close()


def _json_answer(payload: dict[str, Any]) -> tuple[int, bytes, str]:
    return 200, json.dumps(payload).encode(), "application/json"


def _form(req: Received) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(req.body.decode(), keep_blank_values=True))


def _raw_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


# ---- auth and basics -----------------------------------------------------------------------------


def test_auth_test_has_the_shape_slack_sends(slack: LocalSlack, client: WebClient) -> None:
    resp = client.auth_test()
    sample = _payload("web-api/auth.test.json")
    assert set(sample) <= set(resp.data)  # type: ignore[arg-type]
    assert resp["bot_id"] == slack.bot_id
    assert resp["user_id"] == slack.bot_user_id
    assert resp["team_id"] == "T0001"
    assert resp["team"] == "Acme Marketing"
    assert "chat:write" in resp.headers["x-oauth-scopes"]
    assert slack.api_url == f"{slack.base_url}/api/"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", slack.base_url)


def test_auth_failures(slack: LocalSlack) -> None:
    with pytest.raises(SlackApiError) as wrong:
        WebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()
    assert wrong.value.response["error"] == "invalid_auth"

    status, body = _raw_post(slack.api_url + "auth.test", b"", {})
    assert (status, body) == (200, {"ok": False, "error": "not_authed"})

    status, body = _raw_post(slack.api_url + "auth.test", b"", {"Authorization": "Basic abc"})
    assert body["error"] == "invalid_auth"

    # the token may also come in the body, as Slack allows for form posts
    status, body = _raw_post(slack.api_url + "auth.test", b"token=xoxb-local-token", {})
    assert body["ok"] is True
    assert slack.get_calls("auth.test")[-1]["token"] == "xoxb-local-token"


def test_unknown_method_and_missing_arguments(slack: LocalSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as unknown:
        client.api_call("chat.nope", json={"channel": GENERAL})
    assert unknown.value.response.status_code == 200
    assert unknown.value.response["error"] == "unknown_method"

    with pytest.raises(SlackApiError) as missing:
        client.api_call("chat.postMessage", json={"text": "no channel"})
    assert missing.value.response["error"] == "invalid_arguments"
    assert slack.messages == []

    with pytest.raises(SlackApiError) as no_text, pytest.warns(UserWarning, match="text"):
        client.chat_postMessage(channel=GENERAL)
    assert no_text.value.response["error"] == "no_text"

    with pytest.raises(SlackApiError) as unknown_channel:
        client.chat_postMessage(channel="C0NOPE", text="x")
    assert unknown_channel.value.response["error"] == "channel_not_found"


# ---- messages ------------------------------------------------------------------------------------


def test_post_thread_metadata_and_history(slack: LocalSlack, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Weekly* digest"}}]
    metadata = {"event_type": "digest_posted", "event_payload": {"week": "2024-W10"}}
    parent = client.chat_postMessage(channel=GENERAL, text="Weekly digest", blocks=blocks, metadata=metadata)
    assert parent["channel"] == GENERAL
    assert TS_RE.match(parent["ts"])
    assert parent["message"]["bot_id"] == slack.bot_id
    assert parent["message"]["user"] == slack.bot_user_id

    reply = client.chat_postMessage(channel=GENERAL, text="details", thread_ts=parent["ts"])
    other = client.chat_postMessage(channel=GENERAL, text="next, 中文 ✓")
    ts_values = [parent["ts"], reply["ts"], other["ts"]]
    assert ts_values == sorted(ts_values, key=float) and len(set(ts_values)) == 3

    stored = slack.channel_messages(GENERAL)
    assert [m.text for m in stored] == ["Weekly digest", "details", "next, 中文 ✓"]
    assert stored[0].blocks is not None and stored[0].blocks[0]["text"]["text"] == "*Weekly* digest"
    assert stored[0].metadata == metadata
    assert stored[1].thread_ts == parent["ts"]
    assert [m.text for m in slack.channel_messages(GENERAL, thread_ts=parent["ts"])] == [
        "Weekly digest",
        "details",
    ]
    assert [m.text for m in slack.channel_messages(GENERAL, top_level=True)] == [
        "Weekly digest",
        "next, 中文 ✓",
    ]

    # JSON bodies are recorded decoded: blocks arrive as a list from chat_postMessage
    assert slack.get_calls("chat.postMessage")[0]["blocks"] == blocks

    history = client.conversations_history(channel=GENERAL)
    assert [m["text"] for m in history["messages"]] == [
        "next, 中文 ✓",
        "Weekly digest",
    ]  # newest first, no replies
    assert all("metadata" not in m for m in history["messages"])
    assert history["messages"][1]["reply_count"] == 1
    assert history["messages"][1]["thread_ts"] == parent["ts"]

    with_meta = client.conversations_history(channel=GENERAL, include_all_metadata=True)
    assert with_meta["messages"][1]["metadata"] == metadata

    page = client.conversations_history(channel=GENERAL, limit=1)
    assert page["has_more"] is True and len(page["messages"]) == 1
    rest = client.conversations_history(
        channel=GENERAL, limit=1, cursor=page["response_metadata"]["next_cursor"]
    )
    assert rest["messages"][0]["text"] == "Weekly digest"

    window = client.conversations_history(channel=GENERAL, oldest=parent["ts"])
    assert [m["text"] for m in window["messages"]] == ["next, 中文 ✓"]
    window = client.conversations_history(channel=GENERAL, oldest=parent["ts"], inclusive=True)
    assert len(window["messages"]) == 2

    replies = client.conversations_replies(channel=GENERAL, ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["Weekly digest", "details"]
    assert replies["messages"][1]["parent_user_id"] == slack.bot_user_id


def test_form_encoded_post_keeps_json_fields_as_strings(slack: LocalSlack, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "plain_text", "text": "hi"}}]
    client.api_call(
        "chat.postMessage", params={"channel": GENERAL, "text": "hi", "blocks": json.dumps(blocks)}
    )
    args = slack.get_calls("chat.postMessage")[0]
    assert isinstance(args["blocks"], str)
    assert slack.messages[0].blocks is not None and slack.messages[0].blocks[0]["text"]["text"] == "hi"


def test_ephemeral_messages(slack: LocalSlack, client: WebClient) -> None:
    resp = client.chat_postEphemeral(channel=GENERAL, user=ALICE, text="only you")
    assert TS_RE.match(resp["message_ts"])
    assert slack.channel_messages(GENERAL) == []
    [eph] = slack.channel_messages(GENERAL, include_ephemeral=True)
    assert eph.ephemeral_user == ALICE and eph.text == "only you"
    assert client.conversations_history(channel=GENERAL)["messages"] == []
    with pytest.raises(SlackApiError) as err:
        client.chat_postEphemeral(channel=GENERAL, user="U0NOBODY", text="x")
    assert err.value.response["error"] == "user_not_found"


def test_update_delete_permalink_reactions(slack: LocalSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel=GENERAL, text="v1")
    client.chat_update(channel=GENERAL, ts=posted["ts"], text="v2")
    [m] = slack.channel_messages(GENERAL)
    assert m.text == "v2" and m.history[0]["text"] == "v1" and m.ts == posted["ts"]

    link = client.chat_getPermalink(channel=GENERAL, message_ts=posted["ts"])["permalink"]
    assert link.startswith(slack.base_url) and posted["ts"].replace(".", "") in link

    client.reactions_add(channel=GENERAL, timestamp=posted["ts"], name="white_check_mark")
    assert m.reactions == {"white_check_mark": [slack.bot_user_id]}
    with pytest.raises(SlackApiError) as again:
        client.reactions_add(channel=GENERAL, timestamp=posted["ts"], name="white_check_mark")
    assert again.value.response["error"] == "already_reacted"

    human = slack.post_user_message(GENERAL, ALICE, "mine")
    with pytest.raises(SlackApiError) as cant:
        client.chat_update(channel=GENERAL, ts=human.ts, text="hijack")
    assert cant.value.response["error"] == "cant_update_message"

    client.chat_delete(channel=GENERAL, ts=posted["ts"])
    assert [x.text for x in slack.channel_messages(GENERAL)] == ["mine"]
    with pytest.raises(SlackApiError) as gone:
        client.chat_update(channel=GENERAL, ts=posted["ts"], text="v3")
    assert gone.value.response["error"] == "message_not_found"


def test_block_limits_are_enforced(slack: LocalSlack, client: WebClient) -> None:
    too_many = [{"type": "divider"}] * 51
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel=GENERAL, text="x", blocks=too_many)
    assert err.value.response["error"] == "invalid_blocks"
    long_button = [
        {
            "type": "actions",
            "elements": [
                {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "x" * 76}}
            ],
        }
    ]
    with pytest.raises(SlackApiError) as err2:
        client.chat_postMessage(channel=GENERAL, text="x", blocks=long_button)
    assert any(
        "/blocks/0/elements/0/text/text" in m for m in err2.value.response["response_metadata"]["messages"]
    )
    assert slack.messages == []


# ---- users and conversations ----------------------------------------------------------------------


def test_users_info_with_locale(slack: LocalSlack, client: WebClient) -> None:
    user = client.users_info(user=ALICE, include_locale=True)["user"]
    assert user["locale"] == "zh-CN"
    assert user["tz"] == "Asia/Shanghai" and user["tz_offset"] == 8 * 3600
    assert user["profile"]["real_name"] == "Alice Wong" and user["profile"]["display_name"] == "alice"
    assert "locale" not in client.users_info(user=ALICE)["user"]
    with pytest.raises(SlackApiError) as err:
        client.users_info(user="U0NOBODY")
    assert err.value.response["error"] == "user_not_found"


def test_users_list_paginates(slack: LocalSlack, client: WebClient) -> None:
    for i in range(5):
        slack.add_user(f"U0EXTRA{i}", f"extra{i}")
    ids: list[str] = []
    cursor = None
    pages = 0
    while True:
        resp = client.users_list(limit=2, cursor=cursor)
        pages += 1
        ids += [m["id"] for m in resp["members"]]
        cursor = resp["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 4  # bot + alice + bob + 5 extras = 8 users
    assert len(ids) == len(set(ids)) == 8
    assert slack.bot_user_id in ids
    # slack_sdk's own iterator follows next_cursor
    assert sum(len(page["members"]) for page in client.users_list(limit=3)) == 8


def test_conversations_open_is_stable_and_dm_by_user_id(slack: LocalSlack, client: WebClient) -> None:
    first = client.conversations_open(users=ALICE)["channel"]["id"]
    second = client.conversations_open(users=[ALICE])["channel"]["id"]
    assert first == second and first.startswith("D")
    assert client.conversations_open(users=BOB)["channel"]["id"] != first
    info = client.conversations_info(channel=first)["channel"]
    assert info["is_im"] is True and info["user"] == ALICE
    posted = client.chat_postMessage(channel=ALICE, text="hello in DM")
    assert posted["channel"] == first
    assert slack.channel_messages(first)[0].text == "hello in DM"
    general = client.conversations_info(channel=GENERAL, include_num_members=True)["channel"]
    assert general["name"] == "general" and general["is_channel"] is True and general["num_members"] == 3


# ---- views ---------------------------------------------------------------------------------------

MODAL = {
    "type": "modal",
    "callback_id": "new_goal",
    "title": {"type": "plain_text", "text": "New goal"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "kind",
            "label": {"type": "plain_text", "text": "Kind"},
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": [
                    {"text": {"type": "plain_text", "text": "KPI"}, "value": "kpi"},
                    {"text": {"type": "plain_text", "text": "Task"}, "value": "task"},
                ],
            },
        },
    ],
}


def test_views_open_needs_a_valid_trigger(slack: LocalSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as invalid:
        client.views_open(trigger_id="111.222.valid", view=MODAL)
    assert invalid.value.response["error"] == "invalid_trigger_id"

    trigger = slack.issue_trigger_id(ALICE)
    view = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert view["id"].startswith("V") and view["hash"] and view["callback_id"] == "new_goal"
    assert slack.views[-1]["view"] == MODAL and slack.views[-1]["method"] == "views.open"
    assert slack.open_views(ALICE)[0]["id"] == view["id"]

    with pytest.raises(SlackApiError) as reused:
        client.views_open(trigger_id=trigger, view=MODAL)
    assert reused.value.response["error"] == "exchanged_trigger_id"

    slack.trigger_ttl = 0.05
    late = slack.issue_trigger_id(ALICE)
    time.sleep(0.1)
    with pytest.raises(SlackApiError) as expired:
        client.views_open(trigger_id=late, view=MODAL)
    assert expired.value.response["error"] == "expired_trigger_id"

    bad = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
    with pytest.raises(SlackApiError) as too_long:
        client.views_open(trigger_id=slack.issue_trigger_id(ALICE), view=bad)
    assert too_long.value.response["error"] == "invalid_arguments"


def test_views_publish_and_update(slack: LocalSlack, client: WebClient) -> None:
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Home"}}]}
    first = client.views_publish(user_id=ALICE, view=home)["view"]
    again = client.views_publish(user_id=ALICE, view=home)["view"]
    assert first["id"] == again["id"] and first["hash"] != again["hash"]
    assert slack.views[-1]["user_id"] == ALICE
    assert slack.home_view(ALICE) is not None
    with pytest.raises(SlackApiError) as conflict:
        client.views_update(view_id=first["id"], hash=first["hash"], view=home)
    assert conflict.value.response["error"] == "hash_conflict"
    client.views_update(view_id=first["id"], hash=again["hash"], view=home)
    with pytest.raises(SlackApiError) as modal:
        client.views_publish(user_id=ALICE, view=MODAL)
    assert modal.value.response["error"] == "invalid_arguments"


# ---- files ---------------------------------------------------------------------------------------


def test_files_upload_v2_end_to_end(slack: LocalSlack, client: WebClient) -> None:
    resp = client.files_upload_v2(channel=GENERAL, content=b"png bytes", filename="chart.png", title="x")
    assert resp["ok"] is True
    file_id = resp["file"]["id"]
    assert set(_payload("web-api/files.completeUploadExternal.json")["files"][0]) <= set(resp["file"])
    stored = slack.files[file_id]
    assert stored.content == b"png bytes" and stored.filename == "chart.png" and stored.title == "x"
    assert stored.channel == GENERAL and stored.thread_ts is None
    [msg] = slack.channel_messages(GENERAL)
    assert msg.files[0]["id"] == file_id
    assert GENERAL in resp["file"]["channels"]

    upload_url_call = slack.get_calls("files.getUploadURLExternal")[0]
    assert upload_url_call["filename"] == "chart.png" and str(upload_url_call["length"]) == "9"

    with urllib.request.urlopen(resp["file"]["url_private"], timeout=5) as download:
        assert download.read() == b"png bytes"

    parent = client.chat_postMessage(channel=GENERAL, text="thread")
    client.files_upload_v2(
        channel=GENERAL,
        content="a,b\n1,2\n",
        filename="data.csv",
        thread_ts=parent["ts"],
        initial_comment="see",
    )
    reply = slack.channel_messages(GENERAL, thread_ts=parent["ts"])[-1]
    assert reply.thread_ts == parent["ts"] and reply.text == "see" and reply.files[0]["name"] == "data.csv"


def test_upload_url_accepts_multipart_without_auth(slack: LocalSlack, client: WebClient) -> None:
    url = client.files_getUploadURLExternal(filename="a.txt", length=3)
    assert url["upload_url"].startswith(f"{slack.base_url}/upload/F")
    boundary = "XyZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nabc\r\n--{boundary}--\r\n"
    ).encode()
    req = urllib.request.Request(
        url["upload_url"], data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200 and resp.read() == b"OK - 3"
    assert slack.files[url["file_id"]].content == b"abc"
    with pytest.raises(SlackApiError) as never:
        client.files_completeUploadExternal(files=[{"id": "F0NOPE", "title": "t"}], channel_id=GENERAL)
    assert never.value.response["error"] == "file_not_found"


# ---- canned answers ------------------------------------------------------------------------------


def test_canned_429_without_and_with_retry_handler(slack: LocalSlack, client: WebClient) -> None:
    slack.add_response(
        "chat.postMessage",
        status=429,
        headers={"Retry-After": "1"},
        body={"ok": False, "error": "ratelimited"},
    )
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel=GENERAL, text="hi")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["retry-after"] in ("1", ["1"])
    assert slack.messages == []

    retrying = WebClient(
        token=slack.bot_token, base_url=slack.api_url, retry_handlers=[RateLimitErrorRetryHandler()]
    )
    slack.add_response("chat.postMessage", status=429, headers={"Retry-After": "1"})
    started = time.monotonic()
    resp = retrying.chat_postMessage(channel=GENERAL, text="after retry")
    assert resp["ok"] is True and time.monotonic() - started >= 1.0
    assert [m.text for m in slack.messages] == ["after retry"]
    assert len(slack.get_calls("chat.postMessage")) == 3


def test_canned_500_and_times(slack: LocalSlack, client: WebClient) -> None:
    slack.add_response("chat.postMessage", status=500, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel=GENERAL, text="hi")
        assert err.value.response.status_code == 500
    assert slack.messages == []
    client.chat_postMessage(channel=GENERAL, text="works again")
    assert [m.text for m in slack.messages] == ["works again"]


def test_canned_delay_times_the_client_out(slack: LocalSlack) -> None:
    impatient = WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=1, retry_handlers=[])
    slack.add_response("chat.postMessage", delay=3, body={"ok": True, "channel": GENERAL, "ts": "1.000001"})
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        impatient.chat_postMessage(channel=GENERAL, text="slow")
    assert slack.messages == []


def test_a_dropped_answer_still_does_the_call(slack: LocalSlack) -> None:
    impatient = WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=2, retry_handlers=[])
    slack.drop_answer("chat.postMessage")
    with pytest.raises(Exception):  # noqa: B017 (the connection closes without an answer: any client error)
        impatient.chat_postMessage(channel=GENERAL, text="posted, answer lost")
    assert [m.text for m in slack.messages] == ["posted, answer lost"]
    impatient.chat_postMessage(channel=GENERAL, text="answered")  # only the next call's answer was dropped
    assert [m.text for m in slack.messages] == ["posted, answer lost", "answered"]


def test_reset_keeps_directory(slack: LocalSlack, client: WebClient) -> None:
    client.chat_postMessage(channel=GENERAL, text="x")
    slack.add_response("auth.test", status=500)
    slack.reset()
    assert slack.calls == [] and slack.messages == []
    assert client.auth_test()["ok"] is True  # canned answer forgotten
    assert client.users_info(user=ALICE)["user"]["name"] == "alice"


def test_wait_for_polls_and_explains_timeouts(slack: LocalSlack, client: WebClient) -> None:
    threading.Timer(0.2, lambda: client.chat_postMessage(channel=GENERAL, text="later")).start()
    [args] = slack.wait_for("chat.postMessage", where=lambda a: a.get("text") == "later", timeout=5)
    assert args["channel"] == GENERAL
    with pytest.raises(AssertionError, match=r"(?s)waiting for 1 chat\.delete.*chat\.postMessage"):
        slack.wait_for("chat.delete", timeout=0.2)


# ---- signing -------------------------------------------------------------------------------------


def test_sign_matches_slacks_test_vector() -> None:
    vector = _payload("signature_test_vector.json")
    assert sign(vector["signing_secret"], vector["timestamp"], vector["body"]) == vector["expected_signature"]
    assert (
        sign(vector["signing_secret"], vector["timestamp"], vector["body"].encode())
        == vector["expected_signature"]
    )
    assert verify(
        vector["signing_secret"],
        vector["timestamp"],
        vector["body"],
        vector["expected_signature"],
        now=int(vector["timestamp"]) + 10,
    )
    assert not verify(
        vector["signing_secret"], vector["timestamp"], vector["body"], vector["expected_signature"]
    )


# ---- driving the bot -----------------------------------------------------------------------------


def test_send_command_sends_exactly_slacks_signed_form(slack: LocalSlack, fake_bot: FakeBot) -> None:
    result = slack.send_command("/goal", "add Q3 leads +20%", user_id=ALICE, channel_id=GENERAL)
    assert result.status == 200 and not result.late
    [req] = fake_bot.received
    assert req.path == "/slack/events"
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"

    verifier = SignatureVerifier(slack.signing_secret)
    assert verifier.is_valid_request(req.body, req.headers)
    assert req.headers["X-Slack-Signature"] == sign(
        slack.signing_secret, req.headers["X-Slack-Request-Timestamp"], req.body
    )
    assert abs(int(req.headers["X-Slack-Request-Timestamp"]) - time.time()) < 5

    form = _form(req)
    expected_fields = [
        k for k in _payload("slash_command.json") if k not in ("enterprise_id", "enterprise_name")
    ]
    assert list(form) == expected_fields
    assert form["command"] == "/goal" and form["text"] == "add Q3 leads +20%"
    assert form["user_id"] == ALICE and form["user_name"] == "alice"
    assert form["channel_id"] == GENERAL and form["channel_name"] == "general"
    assert form["team_id"] == "T0001" and form["team_domain"] == "acme-marketing"
    assert form["is_enterprise_install"] == "false"
    assert (
        form["response_url"] == result.response_url == f"{slack.base_url}/response/{result.response_url_id}"
    )
    assert form["trigger_id"] == result.trigger_id
    assert slack.messages == []  # empty ack: nothing shown


def test_command_ack_bodies_become_messages(slack: LocalSlack, fake_bot: FakeBot) -> None:
    fake_bot.responder = lambda r: _json_answer({"text": "Only you see this"})
    slack.send_command("/goal", "list", user_id=ALICE, channel_id=GENERAL)
    [eph] = slack.channel_messages(GENERAL, include_ephemeral=True)
    assert eph.ephemeral_user == ALICE and eph.text == "Only you see this" and eph.user == slack.bot_user_id

    slack.reset()
    fake_bot.responder = lambda r: _json_answer({"response_type": "in_channel", "text": "Everyone sees this"})
    slack.send_command("/goal", "share", user_id=ALICE, channel_id=GENERAL)
    echo, reply = slack.channel_messages(GENERAL)
    assert (echo.user, echo.text) == (ALICE, "/goal share")
    assert (reply.user, reply.text, reply.ephemeral_user) == (slack.bot_user_id, "Everyone sees this", None)


def test_command_trigger_opens_a_modal(slack: LocalSlack, fake_bot: FakeBot) -> None:
    client = WebClient(token=slack.bot_token, base_url=slack.api_url)

    def respond(req: Received) -> tuple[int, bytes, str]:
        client.views_open(trigger_id=_form(req)["trigger_id"], view=MODAL)
        return 200, b"", "text/plain"

    fake_bot.responder = respond
    assert slack.send_command("/goal", "", user_id=ALICE, channel_id=GENERAL).ok
    [view] = slack.open_views(ALICE)
    assert view["callback_id"] == "new_goal"

    fake_bot.responder = lambda r: _json_answer(
        {"response_action": "errors", "errors": {"title": "Too short"}}
    )
    result = slack.submit_view(
        view["id"], user_id=ALICE, values={"title": {"value": "x"}, "kind": {"value": "kpi"}}
    )
    submitted = json.loads(_form(fake_bot.received[-1])["payload"])
    assert submitted["type"] == "view_submission" and submitted["view"]["id"] == view["id"]
    assert submitted["view"]["state"]["values"]["title"]["value"] == {
        "type": "plain_text_input",
        "value": "x",
    }
    assert submitted["view"]["state"]["values"]["kind"]["value"]["selected_option"]["value"] == "kpi"
    assert result.body["response_action"] == "errors"
    assert len(slack.open_views(ALICE)) == 1  # errors keep the modal open

    fake_bot.responder = lambda r: (200, b"", "text/plain")
    slack.submit_view(view["id"], user_id=ALICE, values={"title": {"value": "Grow leads"}})
    assert slack.open_views(ALICE) == []


def test_response_url_posts(slack: LocalSlack, fake_bot: FakeBot) -> None:
    result = slack.send_command("/digest", "", user_id=BOB, channel_id=MARKETING)
    webhook = WebhookClient(result.response_url)
    first = webhook.send(text="working on it…")
    assert (first.status_code, first.body) == (200, "ok")
    [eph] = slack.ephemeral_messages(BOB)
    assert eph.text == "working on it…" and eph.channel == MARKETING

    webhook.send(text="done", replace_original=True)
    assert [m.text for m in slack.ephemeral_messages(BOB)] == ["done"]

    webhook.send(text="shared", response_type="in_channel")
    assert [(m.user, m.text) for m in slack.channel_messages(MARKETING)] == [
        (BOB, "/digest"),
        (slack.bot_user_id, "shared"),
    ]
    for _ in range(2):
        assert webhook.send(text="more").status_code == 200
    sixth = webhook.send(text="too many")
    assert sixth.status_code == 404 and sixth.body == "used_url"
    assert len(slack.responses) == 6 and slack.responses[0]["body"]["text"] == "working on it…"


def test_send_event_envelope_and_retries(slack: LocalSlack, fake_bot: FakeBot) -> None:
    slack.send_event(
        {"type": "app_home_opened", "user": ALICE, "channel": "D1", "tab": "home"}, event_id="Ev0001"
    )
    slack.send_event(
        {"type": "app_home_opened", "user": ALICE, "channel": "D1", "tab": "home"},
        event_id="Ev0001",
        retry_num=1,
    )
    first, retry = fake_bot.received
    assert first.headers["Content-Type"] == "application/json"
    assert SignatureVerifier(slack.signing_secret).is_valid_request(first.body, first.headers)
    envelope = json.loads(first.body)
    sample = _payload("event_message_channel.json")
    assert set(sample) - {"enterprise_id"} <= set(envelope)
    assert envelope["type"] == "event_callback" and envelope["event_id"] == "Ev0001"
    assert envelope["authorizations"][0]["user_id"] == slack.bot_user_id
    assert "X-Slack-Retry-Num" not in first.headers
    assert (
        retry.headers["X-Slack-Retry-Num"] == "1" and retry.headers["X-Slack-Retry-Reason"] == "http_timeout"
    )
    assert json.loads(retry.body)["event_id"] == "Ev0001"


def test_post_user_message_delivers_message_events(slack: LocalSlack, fake_bot: FakeBot) -> None:
    root = slack.post_user_message(GENERAL, ALICE, "kickoff?")
    reply = slack.post_user_message(GENERAL, BOB, "yes", thread_ts=root.ts)
    top_event = json.loads(fake_bot.received[0].body)["event"]
    reply_event = json.loads(fake_bot.received[1].body)["event"]
    sample_top = _payload("event_message_channel.json")["event"]
    sample_reply = _payload("event_message_thread_reply.json")["event"]
    assert set(top_event) == set(sample_top)
    assert {"thread_ts", "parent_user_id", "channel_type"} <= set(reply_event)
    assert set(reply_event) - set(sample_top) <= set(sample_reply)
    assert reply_event["thread_ts"] == root.ts and reply_event["parent_user_id"] == ALICE
    assert reply_event["ts"] == reply.ts and top_event["channel_type"] == "channel"
    assert [m.text for m in slack.channel_messages(GENERAL, thread_ts=root.ts)] == ["kickoff?", "yes"]


def test_click_button_and_replace_original(slack: LocalSlack, fake_bot: FakeBot, client: WebClient) -> None:
    blocks = [
        {
            "type": "actions",
            "block_id": "task",
            "elements": [
                {
                    "type": "button",
                    "action_id": "done",
                    "value": "42",
                    "text": {"type": "plain_text", "text": "Done"},
                }
            ],
        }
    ]
    posted = client.chat_postMessage(channel=GENERAL, text="Task 42", blocks=blocks)
    message = slack.get_message(GENERAL, posted["ts"])
    assert isinstance(message, Message)

    def respond(req: Received) -> tuple[int, bytes, str]:
        payload = json.loads(_form(req)["payload"])
        WebhookClient(payload["response_url"]).send(text="Task 42 ✓", replace_original=True)
        return 200, b"", "text/plain"

    fake_bot.responder = respond
    assert slack.click_button(message, "done", user_id=BOB).ok
    [req] = fake_bot.received
    assert SignatureVerifier(slack.signing_secret).is_valid_request(req.body, req.headers)
    assert list(_form(req)) == ["payload"]
    payload = json.loads(_form(req)["payload"])
    sample = _payload("block_actions.json")
    assert set(sample) <= set(payload)
    assert payload["actions"][0]["value"] == "42" and payload["user"]["id"] == BOB
    assert payload["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": GENERAL,
        "is_ephemeral": False,
    }
    assert message.text == "Task 42 ✓" and message.history[0]["text"] == "Task 42"


# ---- the spec checker ----------------------------------------------------------------------------

def test_spec_checker_accepts_what_slack_sdk_sends(slack: LocalSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel=GENERAL, text="hi")
    client.chat_postMessage(channel=GENERAL, text="reply", thread_ts=parent["ts"])
    client.chat_postEphemeral(channel=GENERAL, user=ALICE, text="eph")
    client.chat_update(channel=GENERAL, ts=parent["ts"], text="hi!")
    client.users_info(user=ALICE, include_locale=True)
    client.conversations_history(channel=GENERAL, include_all_metadata=True)
    client.views_open(trigger_id=slack.issue_trigger_id(ALICE), view=MODAL)
    client.views_publish(user_id=ALICE, view={"type": "home", "blocks": []})
    client.reactions_add(channel=GENERAL, timestamp=parent["ts"], name="eyes")
    client.files_upload_v2(channel=GENERAL, content=b"x", filename="x.txt")
    slack_spec.assert_calls_conform(slack)


def test_spec_checker_rejects_bad_calls(slack: LocalSlack, client: WebClient) -> None:
    slack_spec.check_call("chat.postMessage", {"channel": GENERAL, "text": "ok"})
    with pytest.raises(AssertionError, match="channel"):
        slack_spec.check_call("chat.postMessage", {"text": "no channel"})
    with pytest.raises(AssertionError, match="not a Slack Web API method"):
        slack_spec.check_call("chat.postMesage", {"channel": GENERAL})
    with pytest.raises(AssertionError, match="length"):
        slack_spec.check_call("files.getUploadURLExternal", {"filename": "a.png"})
    with pytest.raises(AssertionError, match="trigger_id"):
        slack_spec.check_call("views.open", {"view": "{}"})
    slack_spec.check_call("files.completeUploadExternal", {"files": '[{"id": "F1"}]'})

    with pytest.raises(SlackApiError):
        client.api_call("chat.postEphemeral", json={"channel": GENERAL, "text": "who?"})
    with pytest.raises(AssertionError, match=r"call #0: chat\.postEphemeral is missing .*user"):
        slack_spec.assert_calls_conform(slack)


def test_send_interaction_fills_what_slack_always_sends(slack: LocalSlack, fake_bot: FakeBot) -> None:
    sample = _payload("view_submission.json")
    with pytest.raises(ValueError, match="add_user"):
        slack.send_interaction(sample)  # W111 is not in this workspace
    slack.add_user("W111", "primary-owner")
    assert slack.send_interaction(sample).ok
    sent = json.loads(_form(fake_bot.received[-1])["payload"])
    assert sent["view"] == sample["view"] and sent["trigger_id"] == "111.222.valid"
    assert sent["user"]["id"] == "W111" and sent["api_app_id"] == "A111"

    fake_bot.responder = lambda r: (500, b"boom", "text/plain")
    result = slack.send_interaction({"type": "shortcut", "callback_id": "x", "user": {"id": ALICE}})
    assert result.status == 500 and result.body == "boom"
    sent = json.loads(_form(fake_bot.received[-1])["payload"])
    assert sent["user"] == {"id": ALICE, "username": "alice", "name": "alice", "team_id": "T0001"}
    assert sent["team"] == {"id": "T0001", "domain": "acme-marketing"}
    assert sent["api_app_id"] == slack.app_id and sent["trigger_id"]


def test_delivery_without_a_listening_bot(slack: LocalSlack) -> None:
    with pytest.raises(RuntimeError, match="bot_url"):
        slack.send_event({"type": "app_mention", "user": ALICE, "text": "hi", "channel": GENERAL})
    slack.bot_url = "http://127.0.0.1:9/slack/events"
    result = slack.send_event({"type": "app_mention", "user": ALICE, "text": "hi", "channel": GENERAL})
    assert result.status == 0 and result.body["error"] == "dispatch_failed"
