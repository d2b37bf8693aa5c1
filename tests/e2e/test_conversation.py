"""One working loop of a marketing team, typed as slash commands over real signed HTTP, on both databases."""

from __future__ import annotations

import re
import time

from tests.support.harness import ANA, BO, GENERAL, LILEI, MARKETING, Bot, Said, dump


def wait_for_locale(bot: Bot, user: str, timeout: float = 5.0) -> None:
    """Wait until the bot has looked up `user`'s Slack locale (users.info) and cached it."""
    bot.slack.wait_for("users.info", where=lambda args: args.get("user") == user, timeout=timeout)
    locales = getattr(bot.app, "locales", None)
    deadline = time.monotonic() + timeout
    while locales is not None and not locales.is_cached(bot.team_id, user):
        assert time.monotonic() < deadline, f"the locale of {user} was never cached"
        time.sleep(0.02)


def ok(said: Said, *, in_channel: bool = False) -> Said:
    """The bot acked in time with a reply shown privately (or, for goals and campaigns, to the channel)."""
    assert said.status == 200 and not said.late, f"HTTP {said.status}: {said}"
    assert said.strip(), "empty reply"
    assert ":warning:" not in said, f"unexpected error reply: {said}"
    assert "Something went wrong" not in said, said
    assert said.in_channel is in_channel, f"response_type {said.body.get('response_type')!r}: {said}"
    assert said.message is not None, "LocalSlack did not show the reply"
    if in_channel:
        assert said.message.ephemeral_user is None
    else:
        assert said.message.ephemeral_user is not None
    return said


def test_marketing_loop(any_db_bot: Bot) -> None:
    bot = any_db_bot
    say = bot.say

    # ---- KPIs: a ratio metric is defined from two plain ones ---------------------------------------
    said = ok(say(ANA, "/kpi define conversion = orders / visits"))
    assert "K-1" in said and "conversion" in said and "orders / visits" in said
    said = ok(say(ANA, "/kpi define 转化率 = orders / visits"))
    assert "K-4" in said and "转化率" in said, said

    # ---- a goal on that metric (in channel) --------------------------------------------------------
    said = ok(
        say(ANA, '/goal add "Q4 转化率" metric:conversion target:4% by:eoq owner:<@U0BO|bo>'), in_channel=True
    )
    assert "G-1" in said and "Q4 转化率" in said and f"<@{BO}>" in said and "K-1" in said, said
    echo = [m for m in bot.slack.channel_messages(GENERAL) if m.user == ANA]
    assert echo and echo[-1].text.startswith("/goal add"), "an in-channel answer shows the typed command too"

    # ---- values on two days; ratios come from the summed parts ------------------------------------
    said = ok(say(ANA, "/kpi log visits 1,000 orders 30 channel:天猫 date:2026-11-22"))
    assert "Logged 2 KPI values" in said and "天猫" in said and "K-3" in said and "K-2" in said, said
    said = ok(say(ANA, "/kpi log visits 400 orders 20 channel:天猫"))
    assert "replaced" not in said, said
    # a correction: the same metric, channel and day
    said = ok(say(ANA, "/kpi log visits 500 channel:天猫 date:today"))
    assert "replaced 400" in said and "(1 replaced)" in said.fallback, said

    said = ok(say(ANA, "/kpi show conversion"))
    assert "3.33%" in said, f"(30 + 20) / (1000 + 500) = 3.33%: {said}"
    assert "3.5%" not in said, f"the mean of daily ratios (3% and 4%) leaked in: {said}"
    assert "2.63%" not in said, f"the corrected value was added, not replaced: {said}"
    assert re.search(r"orders 50\b.*visits 1,500", said), said
    said = ok(say(ANA, "/kpi show 转化率 by:channel"))
    assert "3.33%" in said and "转化率" in said and "天猫" in said, said
    # 李雷's Slack locale is zh-CN: the first answer is in the workspace's language while the bot looks the
    # locale up (off the ack path); from then on she is answered in Chinese.
    said = ok(say(LILEI, "/kpi list"))
    wait_for_locale(bot, LILEI)
    for ref in ("K-1", "K-2", "K-3", "K-4"):
        assert ref in said, said
    assert "转化率" in said

    # ---- a campaign (in channel) and its tasks ------------------------------------------------------
    said = ok(
        say(ANA, '/campaign add "双十一 预售" start:11-01 end:11-30 channels:天猫,JD budget:¥200k goal:G-1'),
        in_channel=True,
    )
    assert "C-1" in said and "双十一 预售" in said and "天猫" in said and "¥200,000" in said, said

    said = ok(say(ANA, '/task add "Banner for 双十一" <@U0ANA|ana> due:fri campaign:C-1'))
    assert "T-1" in said and "Banner for 双十一" in said and f"<@{ANA}>" in said and "C-1" in said, said
    said = ok(say(ANA, "/task add 直播 脚本 @bo due:+3d goal:G-1"))  # @name resolved through users.list
    assert "T-2" in said and "直播 脚本" in said and f"<@{BO}>" in said and "G-1" in said, said
    assert bot.slack.get_calls("users.list"), "an @name is looked up in users.list"
    said = ok(say(BO, "/task add 海报 设计 @李雷 due:明天 campaign:c1"))  # a CJK display name; t1/c1/1 refs
    assert "T-3" in said and "海报 设计" in said and f"<@{LILEI}>" in said and "tomorrow" in said, said

    said = ok(say(ANA, "/task done T-1"))
    assert "T-1" in said and "done" in said, said
    said = ok(say(ANA, "/task block t2 waiting for 天猫 approval"))
    assert "T-2" in said and "blocked" in said and "waiting for 天猫 approval" in said, said
    said = ok(say(ANA, "/task done 1"))
    assert "already done" in said, said

    said = ok(say(ANA, "/task list all"))
    assert all(ref in said for ref in ("T-1", "T-2", "T-3")), said
    said = ok(say(ANA, "/task list"))
    assert "T-1" not in said and "T-2" in said and "T-3" in said, "open tasks only"
    said = ok(say(ANA, "/task list blocked"))
    assert "T-2" in said and "T-3" not in said, said
    said = ok(say(LILEI, "/task list mine"))
    assert "T-3" in said and "T-2" not in said, said
    assert "任务" in said and "明天到期" in said, f"李雷 is answered in Chinese: {said}"
    said = ok(say(ANA, "/task list @bo"))
    assert "T-2" in said and "T-3" not in said, said
    said = ok(say(ANA, "/task list campaign:C-1"))
    assert "T-3" in said and "T-2" not in said, said

    # ---- feedback with tags -------------------------------------------------------------------------
    said = ok(say(LILEI, '/feedback "优惠券 规则 太复杂" campaign:C-1 from:customer #checkout #移动端'))
    assert "F-1" in said and "优惠券 规则 太复杂" in said and "#checkout" in said and "#移动端" in said, said
    assert "C-1" in said and "已记录反馈" in said, said
    said = ok(say(ANA, "/feedback Great 天猫 traffic after the livestream #traffic"))
    assert "F-2" in said, said
    said = ok(say(ANA, "/feedback list #checkout"))
    assert "F-1" in said and "F-2" not in said, said
    said = ok(say(ANA, "/feedback list"))
    assert "F-1" in said and "F-2" in said, said

    # ---- show and list each kind ---------------------------------------------------------------------
    said = ok(say(ANA, "/goal show G-1"))
    assert "G-1" in said and "Q4 转化率" in said and "K-1" in said and "4%" in said, said
    said = ok(say(ANA, "/goal list"))
    assert "G-1" in said and "Q4 转化率" in said, said
    said = ok(say(ANA, "/campaign show C-1"))
    assert "C-1 双十一 预售" in said and "1 open, 1 done" in said and "G-1" in said, said
    said = ok(say(ANA, "/campaign list"))
    assert "C-1" in said and "双十一 预售" in said, said

    # ---- what was stored is what was typed ---------------------------------------------------------
    team = {"team": bot.team_id}
    titles = bot.rows(
        "SELECT number, title, owner_id FROM tasks WHERE workspace_id = :team ORDER BY number", **team
    )
    assert titles == [(1, "Banner for 双十一", ANA), (2, "直播 脚本", BO), (3, "海报 设计", LILEI)]
    assert bot.rows("SELECT name FROM campaigns WHERE workspace_id = :team", **team) == [("双十一 预售",)]
    metrics = bot.rows("SELECT number, name FROM metrics WHERE workspace_id = :team ORDER BY number", **team)
    assert metrics == [(1, "conversion"), (2, "orders"), (3, "visits"), (4, "转化率")]
    channels = bot.rows("SELECT DISTINCT channel FROM kpi_values WHERE workspace_id = :team", **team)
    assert channels == [("天猫",)]
    assert bot.rows("SELECT title FROM goals WHERE workspace_id = :team", **team) == [("Q4 转化率",)]
    assert ("优惠券 规则 太复杂",) in bot.rows("SELECT text FROM feedback WHERE workspace_id = :team", **team)

    # Every reply was an ack on the HTTP response (nothing posted later through the Web API).
    assert not bot.slack.get_calls("chat.postMessage"), dump(bot)


def test_kpi_commands_accept_the_metric_reference(bot: Bot) -> None:
    """PRODUCT.md: every record's reference (K-4 for a KPI metric) is accepted where the kind is clear."""
    ok(bot.say(ANA, "/kpi log visits 1,000 orders 30"))
    by_name = ok(bot.say(ANA, "/kpi show orders"))
    assert "30" in by_name, by_name
    for ref in ("K-2", "k2", "2"):
        said = bot.say(ANA, f"/kpi show {ref}")
        assert ":warning:" not in said, f"`/kpi show {ref}` should show K-2 orders: {said}"
        assert said.fallback == by_name.fallback, said


def test_a_metric_reference_names_that_metric_everywhere_never_a_new_one(bot: Bot) -> None:
    ok(bot.say(ANA, "/kpi log gmv ¥500k orders 30"))  # K-1 gmv, K-2 orders
    logged = ok(bot.say(ANA, "/kpi log K-1 ¥600k k2 35"))
    assert "gmv" in logged and "orders" in logged and "new metric" not in logged.lower(), logged
    ok(bot.say(ANA, "/kpi define K-2 better:up"))
    ok(bot.say(ANA, "/kpi log visits 1,000"))
    defined = ok(bot.say(ANA, "/kpi define conversion = k2 / K-3"))
    assert "orders / visits" in defined, defined
    ok(bot.say(ANA, '/goal add "GMV by ref" metric:K-1 target:¥2m by:eoq'), in_channel=True)
    listed = ok(bot.say(ANA, "/kpi list"))
    assert "*KPI metrics* · 4" in listed and "K-5" not in listed, listed  # no metric named "K-1" or "k2"
    with bot.db.session(write=False) as session:
        from sqlalchemy import select

        from storage.models import Goal, Metric

        names = sorted(session.scalars(select(Metric.name)))
        goal_metric = session.scalars(select(Goal.metric_id)).one()
        gmv = session.scalars(select(Metric.id).where(Metric.name == "gmv")).one()
    assert names == ["conversion", "gmv", "orders", "visits"], names
    assert goal_metric == gmv
    unknown = bot.say(ANA, "/kpi log K-9 12")
    assert unknown.ephemeral and "K-9" in unknown, unknown
    for bad in ("/kpi define roi = (revenue - cost) / cost", "/kpi define x = orders / visits / days"):
        said = bot.say(ANA, bad)
        assert said.ephemeral and ":warning:" in said, (bad, said)
    with bot.db.session(write=False) as session:
        assert sorted(session.scalars(select(Metric.name))) == names  # the bad ones wrote nothing


def test_digest_now_is_posted_in_the_channel(bot: Bot) -> None:
    ok(bot.say(ANA, "/task add Banner @bo due:today"))
    said = ok(bot.say(ANA, "/mkt digest now", channel=MARKETING))
    assert "digest" in said.lower(), said
    [args] = bot.slack.wait_for("chat.postMessage", timeout=10)
    assert args["channel"] == MARKETING, args
    posted = bot.slack.wait_for_message(MARKETING, where=lambda m: m.is_bot and not m.is_ephemeral, timeout=5)
    assert "T-1" in posted.all_text() and "Banner" in posted.all_text(), dump(bot)


def test_digest_now_where_the_bot_is_not_a_member_says_so_privately_and_gives_up(bot: Bot) -> None:
    bot.slack.add_response("chat.postMessage", body={"ok": False, "error": "not_in_channel"})
    ok(bot.say(ANA, "/mkt digest now", channel=MARKETING))
    note = bot.slack.wait_for_message(
        MARKETING, where=lambda m: m.is_ephemeral and "/invite" in m.all_text(), timeout=10)
    assert note.source == "response_url" and "not in this channel" in note.all_text(), dump(bot)
    assert not [m for m in bot.slack.channel_messages(MARKETING) if m.is_bot and not m.is_ephemeral]
    from sqlalchemy import select

    from storage.models import Outbox

    with bot.db.session(write=False) as session:
        [row] = session.scalars(select(Outbox).where(Outbox.kind == "digest")).all()
    assert (row.status, row.attempts, row.last_error) == ("dead", 1, "not_in_channel")  # not retried for hours


def test_schedule_commands_take_zones_and_ids_as_people_type_them(bot: Bot) -> None:
    said = ok(bot.say(ANA, "/mkt schedule digest 09:30 tz:asia/shanghai", channel=MARKETING))
    assert "Asia/Shanghai" in said, said  # the zone's proper name, whatever the case typed
    said = ok(bot.say(ANA, "/mkt schedule report weekly fri 17:00 tz:ＡＭＥＲＩＣＡ/ＮＥＷ_ＹＯＲＫ", channel=MARKETING))
    assert "America/New_York" in said, said
    helped = bot.say(ANA, "/mkt schedule help", channel=MARKETING)
    assert "/mkt schedule digest" in helped and "cannot be scheduled" not in helped, helped
    listed = ok(bot.say(ANA, "/mkt schedule list", channel=MARKETING))
    assert "S-1" in listed and "S-2" in listed, listed
    removed = ok(bot.say(ANA, "/mkt unschedule Ｓ－１", channel=MARKETING))
    assert "S-1" in removed, removed
    removed = ok(bot.say(ANA, "/mkt unschedule #2", channel=MARKETING))
    assert "S-2" in removed, removed


def test_a_closed_goal_is_listed_as_closed_not_off_track(bot: Bot) -> None:
    ok(bot.say(ANA, '/goal add "双十一 订单" metric:orders target:5000 by:eoq'), in_channel=True)
    bot.say(ANA, "/goal close G-1")
    listed = ok(bot.say(ANA, "/goal list all"))
    assert "G-1" in listed and "closed" in listed and "off track" not in listed, listed
    shown = ok(bot.say(ANA, "/goal show G-1"))
    assert ":checkered_flag:" in shown and ":red_circle:" not in shown, shown


def test_spend_in_another_currency_than_the_budget_is_refused(bot: Bot) -> None:
    ok(bot.say(ANA, "/campaign add 黑五 start:11-20 end:11-30 budget:$1,200"), in_channel=True)
    said = bot.say(ANA, "/campaign spend C-1 ¥500")
    assert said.ephemeral and "budget is in $, not ¥" in said, said
    with bot.db.session(write=False) as session:
        from sqlalchemy import func, select

        from storage.models import CampaignSpend

        assert session.scalar(select(func.count()).select_from(CampaignSpend)) == 0
    ok(bot.say(ANA, "/campaign spend C-1 $500"))
    ok(bot.say(ANA, "/campaign spend C-1 300"))  # a bare amount is in the budget's currency


def test_option_keys_typed_in_full_width_are_options(bot: Bot) -> None:
    said = ok(bot.say(ANA, "/task add Ｆｕｌｌ width banner ｄｕｅ：ｆｒｉ ｏｗｎｅｒ：@bo"))
    assert "Ｆｕｌｌ width banner" in said and "ｄｕｅ" not in said, said
    with bot.db.session(write=False) as session:
        from sqlalchemy import select

        from storage.models import Task

        task = session.scalars(select(Task)).one()
    assert task.due_on is not None and task.owner_id == BO, (task.due_on, task.owner_id)
