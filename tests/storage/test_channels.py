"""Channel names (bot/services/channels.py) on both databases: resolving, aliasing, unaliasing, merging."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.services import channels, kpis
from storage.db import Database


def log(db: Database, ws: str, channel: str, value: str, day: int, metric: str = "gmv") -> str:
    with db.session() as s:
        return kpis.log_value(s, workspace_id=ws, metric_name=metric, value=Decimal(value), percent=False,
                              channel=channel, day=date(2026, 11, day), user_id="U1").channel


def test_every_name_resolves_to_the_first_logged_spelling(db: Database, workspace: str) -> None:
    assert log(db, workspace, "  京东 ", "1", 1) == "京东"
    assert log(db, workspace, "JD", "2", 2) == "京东"
    assert log(db, workspace, "jd", "3", 3) == "京东"
    assert log(db, workspace, "Douyin", "4", 1) == "Douyin"
    assert log(db, workspace, "抖音", "5", 2) == "Douyin"
    assert log(db, workspace, "", "6", 1) == ""
    with db.session(write=False) as s:
        assert channels.known(s, workspace_id=workspace) == ["京东", "Douyin"]
        assert channels.resolve(s, workspace_id=workspace, channel="EMAIL") == "EMAIL"  # nothing logged yet
        assert sorted(channels.names(s, workspace_id=workspace, channel="京东")) == ["jd", "京东"]


def test_an_alias_joins_a_whole_group_and_unalias_splits_one_name_off(db: Database, workspace: str) -> None:
    log(db, workspace, "JD", "1", 1)
    with db.session() as s:
        first = channels.add_alias(s, workspace_id=workspace, alias="京东商城", channel="京东", user_id="U1")
        assert (first.added, first.channel) == (True, "JD")
        assert channels.add_alias(s, workspace_id=workspace, alias="jd", channel="JD", user_id="U1").added is False
    assert log(db, workspace, "京东商城", "2", 2) == "JD"
    with db.session() as s:
        [group] = [g for g in channels.list_groups(s, workspace_id=workspace) if g.channel == "JD"]
        assert sorted(group.names) == ["京东", "京东商城"] and group.built_in is False
        # taking out the name the others were named after: they stay one channel without it
        assert channels.remove_alias(s, workspace_id=workspace, alias="JD", user_id="U1") == ("JD", "JD")
    assert log(db, workspace, "京东", "3", 3) == "京东"  # JD is on its own now
    assert log(db, workspace, "京东商城", "4", 4) == "京东"
    assert log(db, workspace, "jd", "5", 5) == "JD"


def test_merge_keeps_the_value_logged_later_and_reports_it(db: Database, workspace: str) -> None:
    log(db, workspace, "JD", "100", 1)
    with db.session() as s:
        channels.remove_alias(s, workspace_id=workspace, alias="京东", user_id="U1")
    log(db, workspace, "京东", "999", 1)  # later: it wins
    log(db, workspace, "京东", "7", 2)
    log(db, workspace, "京东", "8", 2, metric="orders")
    with db.session() as s:
        result = channels.add_alias(s, workspace_id=workspace, alias="京东", channel="JD", user_id="U1")
    assert result.added and result.merged.moved == {"京东": 3}
    assert [(r.metric, r.day, r.old, r.new) for r in result.merged.replaced] == [
        ("gmv", date(2026, 11, 1), Decimal("100"), Decimal("999"))]
    with db.session(write=False) as s:
        metric = kpis.get_metric(s, workspace_id=workspace, name_or_number="gmv")
        value = kpis.period_value(s, metric=metric, start=date(2026, 11, 1), end=date(2026, 11, 30), channel="jd")
        assert value.value == Decimal("1006") and value.by_channel == {"JD": Decimal("1006")}
