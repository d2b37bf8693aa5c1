"""Files for people and the admins' API tokens, end to end over signed HTTP: `/kpi export`, `/goal list export`
and `/task list export` send a CSV (UTF-8 with a BOM) or an XLSX by DM, read back here with pandas and
openpyxl; the weekly report attaches its KPI table; `/mkt api-token` is for workspace admins only."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

import openpyxl
import pandas as pd

from bot.localslack.records import File
from tests.support.harness import ANA, BO, GENERAL, LILEI, MARKETING, Bot, wait_until


def log_week(bot: Bot) -> None:
    for back, (visits, orders) in enumerate(((1000, 30), (1200, 36), (900, 18))):
        day = (bot.clock().date() - timedelta(days=back + 1)).isoformat()
        assert bot.say(ANA, f"/kpi log visits {visits} orders {orders} gmv ¥{orders * 400} channel:天猫 date:{day}").status == 200
        assert bot.say(ANA, f"/kpi log visits {visits // 2} orders {orders // 2} channel:京东 date:{day}").status == 200
    assert bot.say(ANA, "/kpi define conversion = orders / visits").status == 200


def speaks_chinese(bot: Bot, user: str) -> None:
    """A first command warms the person's Slack language (users.info, after the ack); the next ones use it."""
    bot.say(user, "/kpi list")
    wait_until(lambda: bot.app.locales.cached(bot.team_id, user) is not None, what=f"{user}'s locale")


def dm_file(bot: Bot, user: str, suffix: str, *, count: int = 1) -> File:
    dm = bot.slack.im_channel(user)

    def shared() -> list[File]:
        return [f for f in list(bot.slack.files.values())
                if f.completed and f.filename.endswith(suffix) and any(c == dm for c, _ in f.shares)]

    files = wait_until(lambda: shared()[count - 1:], what=f"a {suffix} file in {user}'s DM: {bot.slack.dump(limit=6)}")
    assert files[0].content is not None
    return files[0]


def test_kpi_export_as_csv_opens_in_excel_with_chinese(bot: Bot) -> None:
    log_week(bot)
    said = bot.say(ANA, "/kpi export visits orders conversion by:channel format:csv period:7d")
    assert said.ephemeral and "DM" in said, said
    f = dm_file(bot, ANA, ".csv")
    assert f.content is not None and f.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    frame = pd.read_csv(io.BytesIO(f.content), encoding="utf-8-sig")
    assert list(frame.columns) == ["date", "channel", "visits", "orders", "conversion"]
    assert set(frame["channel"]) == {"天猫", "京东"} and len(frame) == 6
    yesterday = (bot.clock().date() - timedelta(days=1)).isoformat()
    row = frame[(frame["date"] == yesterday) & (frame["channel"] == "天猫")].iloc[0]
    assert row["visits"] == 1000 and row["orders"] == 30 and row["conversion"] == "3%"


def test_kpi_export_as_xlsx_has_real_numbers_dates_and_a_header(bot: Bot) -> None:
    log_week(bot)
    speaks_chinese(bot, LILEI)
    said = bot.say(LILEI, "/kpi export")  # every metric, summed over channels, XLSX by default
    assert said.ephemeral and "私信" in said, said
    f = dm_file(bot, LILEI, ".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(f.content or b"")).active
    header = [c.value for c in sheet[1]]
    assert header == ["date", "visits", "orders", "gmv"], header
    assert sheet["A1"].font.bold
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 3
    first = rows[-1]
    assert isinstance(first[0], datetime) and first[0].date() == bot.clock().date() - timedelta(days=1)
    assert first[1:] == (1500, 45, 12000) and all(isinstance(v, int | float) for v in first[1:])
    frame = pd.read_excel(io.BytesIO(f.content or b""))
    assert frame["visits"].sum() == 1000 + 500 + 1200 + 600 + 900 + 450


def test_an_export_reads_back_with_kpi_import(bot: Bot) -> None:
    """What `/kpi export by:channel` writes, the import reads as it is: nothing to change."""
    log_week(bot)
    bot.say(ANA, "/kpi export visits orders by:channel format:xlsx")
    f = dm_file(bot, ANA, ".xlsx")
    bot.slack.share_file_in_dm(ANA, "back.xlsx", f.content or b"")
    preview = wait_until(lambda: next((m for m in bot.slack.messages if m.is_bot and "already stored" in m.all_text()),
                                      None), timeout=10, what="the preview of the exported file")
    assert "12 unchanged" in preview.all_text(), preview.all_text()


def test_goal_and_task_lists_export_their_rows(bot: Bot) -> None:
    log_week(bot)
    start = (bot.clock().date() - timedelta(days=7)).isoformat()
    assert bot.say(ANA, f'/goal add "Q4 订单" metric:orders target:5000 by:eoq start:{start}').status == 200
    assert bot.say(ANA, '/task add "Banner for 双十一" @bo due:fri').status == 200
    assert bot.say(ANA, '/task add "Landing page"').status == 200
    assert bot.say(ANA, "/goal list export").ephemeral
    goals = openpyxl.load_workbook(io.BytesIO(dm_file(bot, ANA, ".xlsx").content or b"")).active
    header = [c.value for c in goals[1]]
    assert header[:3] == ["goal", "title", "metric"]
    values = dict(zip(header, next(goals.iter_rows(min_row=2, values_only=True)), strict=True))
    assert values["goal"] == "G-1" and values["title"] == "Q4 订单" and values["target"] == 5000
    assert isinstance(values["deadline"], datetime) and values["current"] == 30 + 36 + 18 + 15 + 18 + 9

    assert bot.say(BO, "/task list mine export format:csv").ephemeral
    tasks = pd.read_csv(io.BytesIO(dm_file(bot, BO, ".csv").content or b""), encoding="utf-8-sig")
    assert tasks["task"].tolist() == ["T-1"] and tasks["title"].tolist() == ["Banner for 双十一"]
    assert tasks["owner"].tolist() == [BO]
    bad = bot.say(ANA, "/task list export format:pdf")
    assert bad.ephemeral and "format:xlsx" in bad, bad


def test_an_export_with_nothing_in_it_says_so(bot: Bot) -> None:
    bot.say(ANA, "/task list export")
    told = bot.ephemeral_to(ANA, containing="Nothing to export")
    assert told is not None
    assert not [f for f in bot.slack.files.values() if f.filename.endswith(".xlsx")]
    unknown = bot.say(ANA, "/kpi export nosuchmetric")
    assert unknown.ephemeral and "nosuchmetric" in unknown, unknown


def test_the_weekly_report_attaches_its_kpi_table(bot: Bot) -> None:
    from jobs.tick import tick

    log_week(bot)
    said = bot.say(ANA, "/mkt schedule report weekly mon 11:00 attach:xlsx", channel=MARKETING)
    assert said.status == 200 and "XLSX" in said, said
    refused = bot.say(ANA, "/mkt schedule digest 09:00 attach:xlsx", channel=MARKETING)
    assert "attach:xlsx" in refused, refused
    bot.clock.set(bot.clock() + timedelta(hours=1, seconds=30))
    tick(bot.app.runtime.jobs)
    report = wait_until(lambda: next((m for m in bot.slack.messages if m.channel == MARKETING and m.thread_ts is None
                                      and "Weekly KPI report" in m.text), None), what="the report")
    table = wait_until(lambda: next((f for f in list(bot.slack.files.values())
                                     if f.filename.endswith(".xlsx") and f.thread_ts == report.ts), None),
                       timeout=10, what="the report's table in its thread")
    sheet = openpyxl.load_workbook(io.BytesIO(table.content or b"")).active
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert [c.value for c in sheet[1]][:2] == ["metric", "unit"]
    assert rows["visits"][2] == 1000 + 500 + 1200 + 600 + 900 + 450
    assert rows["conversion"][2] is not None


def admin_answer(bot: Bot, user: str, line: str, containing: str) -> str:
    said = bot.say(user, line)
    assert said.status == 200 and said.ephemeral and "admin" in said, said
    return bot.ephemeral_to(user, containing=containing).all_text()


def test_api_tokens_are_for_admins_and_their_secret_is_shown_once(bot: Bot) -> None:
    refused = admin_answer(bot, BO, "/mkt api-token new sync", "Only workspace admins")
    assert "Nothing was changed" in refused
    assert bot.rows("SELECT count(*) FROM api_tokens WHERE workspace_id = :team") == [(0,)]

    bot.slack.set_role(ANA, admin=True)
    created = admin_answer(bot, ANA, "/mkt api-token new nightly sync", "mkt_")
    secret = next(word.strip("`") for word in created.split() if word.strip("`").startswith("mkt_"))
    assert "nightly sync" in created and len(secret) > 20
    # only to Ana, privately: nowhere in a channel or another person's view
    assert not [m for m in bot.slack.messages if secret in m.all_text() and m.ephemeral_user != ANA]

    listed = admin_answer(bot, ANA, "/mkt api-token list", "API tokens")
    assert secret[:12] in listed and secret not in listed and "never" in listed and f"<@{ANA}>" in listed, listed
    revoked = admin_answer(bot, ANA, "/mkt api-token revoke 1", "revoked")
    assert "nightly sync" in revoked
    assert bot.rows("SELECT revoked_at IS NOT NULL FROM api_tokens WHERE workspace_id = :team") in ([(1,)], [(True,)])
    unknown = admin_answer(bot, ANA, "/mkt api-token revoke 9", "no API token 9")
    assert unknown


def test_api_token_commands_never_call_slack_on_the_ack_path(bot: Bot) -> None:
    """users.info is asked after the ack (and remembered): the command's answer never waits for it."""
    bot.slack.set_role(LILEI, owner=True)
    speaks_chinese(bot, LILEI)
    bot.slack.api_delay = 1.0  # a slow Slack
    try:
        said = bot.say(LILEI, "/mkt api-token list")
        assert said.status == 200 and said.elapsed < 0.8 and "管理员" in said, said
        bot.ephemeral_to(LILEI, containing="API令牌", timeout=10)
        wait_until(lambda: bot.app.runtime.after_ack._admins, what="the admin look-up remembered")
    finally:
        bot.slack.api_delay = 0.0
    before = len(bot.slack.get_calls("users.info"))
    bot.say(LILEI, "/mkt api-token list")
    wait_until(lambda: len([m for m in bot.slack.ephemeral_messages(LILEI) if "API令牌" in m.all_text()]) == 2)
    lookups: list[Any] = [c for c in bot.slack.get_calls("users.info")[before:] if c.get("user") == LILEI]
    assert not lookups  # remembered
    assert bot.say(LILEI, "/mkt api-token revoke x", channel=GENERAL).ephemeral


def test_exports_are_made_after_the_ack(bot: Bot) -> None:
    log_week(bot)
    bot.slack.api_delay = 1.0
    try:
        said = bot.say(ANA, "/kpi export format:csv")
        assert said.status == 200 and said.elapsed < 0.8, said
        dm_file(bot, ANA, ".csv")
        bot.app.runtime.background.shutdown(wait=True)  # the share's answer, still on its way
    finally:
        bot.slack.api_delay = 0.0
    assert date.fromisoformat(bot.slack.files[dm_file(bot, ANA, ".csv").id].filename[5:15])
