"""A Chinese team reads no English sentence anywhere, and an English team no Chinese from the catalogs.

One walk per language over the whole stack: every form of every command (from each command's `CommandDoc`),
its `help`, every bad input of tests/e2e/test_bad_input.py, the forms typed with nothing after them (submitted
empty, then filled in), every button on every message the bot sent (and the forms they open), the message
shortcuts, the App Home, a KPI file in a DM (good and bad), a retrospective's thread, and the scheduled posts
(digest, weekly report, the automatic retro, reminders, the KPI watchdog's nudge). Everything the bot showed
anyone is then read: acks and response_url answers, every Web API call's texts, views and their field errors.

What is not the bot's own wording is taken out first (`own_words`): code spans, Slack markup (mentions,
channels, links), emoji codes, URLs, references (T-3, G-1, S-2), the command syntax of the usage blocks (the
`CommandDoc` forms), the names typed in this script, units, and a short allow-list of brand and metric words.
What remains must hold no run of two or more English words of two or more letters (`english_runs`).
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.i18n import EN, ZH_CN, catalog
from bot.ids import BlockId, CallbackId
from bot.localslack import Message
from bot.render import views
from bot.services import kpis
from commands.mkt import DOCS
from tests.e2e.test_bad_input import CASES
from tests.jobs.conftest import make_ctx
from tests.jobs.test_tick import add_schedule, at
from tests.support.harness import ANA, BO, GENERAL, LILEI, MARKETING, Bot, fill, wait_until
from tests.support.language import CJK, CODE, HOLE, MARKUP
from tests.support.text import strings

PEOPLE = (ANA, BO, LILEI)

# ---- what counts as English ---------------------------------------------------------------------------------

#: two or more ASCII words of two or more letters in a row, separated by spaces only: an English phrase
ENGLISH_RUN = re.compile(r"\b[A-Za-z][A-Za-z'’]+(?:[ \t]+[A-Za-z][A-Za-z'’]+)+\b")
#: an English month or weekday name, or an English quarter ("Q4 2026"): Chinese writes 2026年11月, 周一, 2026年第4季度
ENGLISH_DATE = re.compile(r"\b(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
                          r"(?:day)?|Q[1-4] \d{4})\b")
URL = re.compile(r"https?://\S+")
REF = re.compile(r"\b[TGCFRKS]-\d+\b")
#: a slash command and its verbs, as typed (`/kpi channel alias`): command syntax in any language
COMMAND = re.compile(r"/(?:task|goal|kpi|campaign|feedback|retro|mkt)\b(?:\s+(?:add|list|start|done|block|assign|due|show|"
                     r"close|checkin|log|define|channel|alias|unalias|aliases|import|export|spend|risk|doc|digest|now|"
                     r"schedule|report|weekly|unschedule|language|api-token|new|revoke|help)\b)*")
#: an option as typed (`due:fri`, `by:eoq`, `format:csv`): syntax
OPTION = re.compile(r"(?<![A-Za-z])[a-z][a-z_-]*[:=][^\s，。、；）]*")
#: brands, platforms, metrics and units a Chinese marketer writes in Latin letters (and the Chinese channel names
#: an English reader types too)
ALLOWED = ("Google Ads", "GA4", "GMV", "ROI", "KPI", "CTR", "CPA", "CAC", "AOV", "SMART", "CSV", "XLSX", "Excel", "JD",
           "Tmall", "Douyin", "IANA", "UTC", "Slack", "App Home", "API", "mktbot", "mkt_", "京东", "天猫", "抖音", "邮件",
           "生意参谋", "京东商智", "巨量引擎")
#: a usage block's syntax lines: each command's forms, as its usage shows them
SYNTAX = sorted({line.strip() for doc in DOCS for line in doc.forms}, key=len, reverse=True)


def own_words(text: str, names: Iterable[str]) -> str:
    """The text without what is not the bot's own wording (see the module's docstring)."""
    text = text.replace("```", "\n")
    for line in SYNTAX:
        text = text.replace(line, HOLE)
    text = CODE.sub(HOLE, text)
    text = COMMAND.sub(HOLE, text)
    text = OPTION.sub(HOLE, text)
    text = URL.sub(HOLE, text)
    text = MARKUP.sub(HOLE, text)
    for name in sorted({*names, *ALLOWED}, key=len, reverse=True):
        text = text.replace(name, HOLE)
    return REF.sub(HOLE, text)


def english_runs(text: str, names: Iterable[str]) -> list[str]:
    own = own_words(text, names)
    return ENGLISH_RUN.findall(own) + ENGLISH_DATE.findall(own)


def chinese_in(text: str, names: Iterable[str]) -> list[str]:
    return CJK.findall(own_words(text, names))


def test_the_definition_finds_english_and_leaves_syntax_names_and_brands() -> None:
    assert english_runs("日期：2026-12-01。Type /task alone to fill in a form.", []) == ["alone to fill in"]
    assert english_runs("复盘 R-2（November 2026）· 周一", []) == ["November"]
    assert english_runs("无法导入：'很多' is not a number", []) == ["is not"]
    assert english_runs("第 3 行：totals row", []) == ["totals row"]
    assert not english_runs("`/task add 海报` · <@U0ANA> · T-3 KOL brief · GMV 与 ROI · https://x.example/a b", ["KOL brief"])
    assert not english_runs("/task add <title> [@owner] [due:<date>] [start:<date>] [campaign:<C>] [goal:<G>]", [])
    assert not english_runs("示例：/kpi channel alias 京东商城 JD · ¥1.2万 · 3 orders · Google Ads", [])
    assert chinese_in("Daily digest · 今天", []) and not chinese_in("T-1 海报 · `今天` · 天猫 = Tmall", ["海报"])


# ---- the script --------------------------------------------------------------------------------------------

#: names typed below (records, metrics, channels, notes, the API token's name): taken out before reading
TYPED = ["海报终稿", "详情页", "主图", "直播脚本", "双十二 GMV", "双十二GMV", "Q4 GMV", "双十一预售", "双十二", "年货节",
         "新客 25-35", "暖冬", "库存不足", "策划方案", "优惠券规则看不懂", "优惠券", "进展顺利", "等设计稿", "同步",
         "京东商城", "天猫", "京东", "抖音", "直播带货效果好", "横幅晚了", "多做直播", "整理直播数据", "KOL brief",
         "visits", "orders", "gmv", "conversion", "spend", "revenue", "signups", "aov", "Banner", "B1", "B2",
         "hello", "Grow", "Big launch", "Too slow", "闲聊",
         "访客数", "支付金额", "支付转化率", "商品ID", "日期", "很多", "kpis.csv", "bad.csv", "notes.pdf", "stock photos", "生意参谋"]


def script(team_lang: str) -> list[str]:
    """Every form of every command, in an order that leaves records for the next line to use."""
    return [
        f"/mkt language {team_lang}",
        f"/mkt language <#{MARKETING}|marketing> {team_lang}",
        "/mkt language",
        "/mkt help",
        *[f"{doc.name} help" for doc in DOCS],
        "/kpi define conversion = orders / visits",
        "/kpi define gmv unit:¥ agg:sum better:up",
        "/kpi define spend unit:¥ better:down",
        "/kpi log visits 12,500 orders 310 gmv ¥48.2k channel:天猫 date:yesterday",
        "/kpi log visits 12,000 orders 300 gmv ¥47k channel:天猫 date:yesterday",
        "/kpi log visits 800 orders 20 gmv ¥9k channel:京东",
        "/kpi log signups 40",
        '/goal add "双十二 GMV" metric:gmv target:¥2.5m by:eoq baseline:¥1m start:2026-11-01 '
        f"owner:<@{LILEI}> channel:天猫",
        '/goal add "Q4 GMV" metric:conversion target:3.5% by:2026-12-31 parent:G-1',
        "/campaign add 双十一预售 start:11-01 end:11-30 channels:天猫,JD budget:¥200k goal:G-1 "
        'audience:"新客 25-35" theme:"暖冬"',
        "/campaign add 双十二 start:12-01 end:12-12 budget:¥100k",
        f"/task add 海报终稿 <@{LILEI}> due:fri start:today campaign:C-1 goal:G-1",
        f"/task add 详情页 <@{BO}> due:2026-11-20",
        "/task add 主图 due:tomorrow",
        "/task add 直播脚本",
        "/task list", "/task list mine", f"/task list <@{BO}>", "/task list overdue", "/task list blocked",
        "/task list all", "/task list campaign:C-1", "/task list export", "/task list all export format:csv",
        "/task start T-1", "/task done T-4", "/task block T-3 等设计稿", f"/task assign T-3 <@{LILEI}>",
        "/task due T-2 +3d", "/task due T-2 2026-11-20",
        "/goal list", "/goal list all", "/goal list export format:csv", "/goal show G-1", "/goal show G-2",
        "/goal checkin G-1 ¥1.2m confidence:7 进展顺利", "/goal checkin G-2 2.5%",
        "/kpi show gmv", "/kpi show conversion period:12w by:channel", "/kpi show gmv channel:天猫 period:this-month",
        "/kpi show K-2 period:2026-11-01..2026-11-22", "/kpi show signups", "/kpi list",
        "/kpi channel alias 京东商城 JD", "/kpi channel aliases", "/kpi channel unalias 京东商城", "/kpi channel alias",
        "/kpi channel unalias", "/kpi channel frobnicate", "/kpi channel aliases junk",
        "/kpi export", "/kpi export gmv visits period:30d by:channel channel:天猫 format:csv",
        "/campaign list", "/campaign show C-1", "/campaign spend C-1 ¥5k channel:天猫 date:today",
        "/campaign risk C-1 库存不足", "/campaign doc C-1 https://docs.example.com/plan 策划方案", "/campaign show C-1",
        "/campaign close C-2", "/campaign list all",
        "/feedback 优惠券规则看不懂 campaign:C-1 goal:G-1 from:customer #优惠券", "/feedback list",
        "/feedback list #优惠券", "/feedback list campaign:C-1",
        "/retro start campaign:C-1", "/retro start period:month", "/retro start period:quarter", "/retro start",
        "/retro list",
        "/mkt schedule digest 09:30 tz:Asia/Shanghai days:mon-fri", "/mkt schedule report weekly mon 10:00 attach:xlsx",
        "/mkt schedule digest 09:45 tz:北京", "/mkt schedule list", "/mkt unschedule S-1",
        "/mkt api-token new 同步", "/mkt api-token list", "/mkt api-token revoke 1",
        "/mkt digest now", "/goal close G-2",
    ]


#: a filled-in form per callback id (a form opened by a button or a command)
FILLED: dict[str, dict[str, Any]] = {
    CallbackId.TASK_MODAL: {"title": "主图", "owner": LILEI, "due": "2026-11-27"},
    CallbackId.GOAL_MODAL: {"title": "双十二GMV", "new_metric": "gmv", "target": "¥1m", "due": "2026-12-31"},
    CallbackId.CAMPAIGN_MODAL: {"name": "年货节", "start": "2027-01-05", "end": "2027-01-20", "budget": "¥50k"},
    CallbackId.FEEDBACK_MODAL: {"text": "优惠券规则看不懂", "source": "customer", "tags": "#优惠券"},
    CallbackId.TASK_BLOCK_MODAL: {"reason": "等设计稿"},
    CallbackId.GOAL_CHECKIN_MODAL: {"value": "¥1.3m", "confidence": "6", "note": "进展顺利"},
    CallbackId.RETRO_NOTE_MODAL: {"category": "well", "text": "直播带货效果好"},
}
#: the same forms filled in wrongly: each shows its field errors
WRONG: dict[str, dict[str, Any]] = {
    CallbackId.TASK_MODAL: {"title": "主图", "start": "2026-11-27", "due": "2026-11-24"},
    CallbackId.GOAL_MODAL: {"title": "Q4", "new_metric": "gmv", "target": "很多", "due": "2026-01-05"},
    CallbackId.CAMPAIGN_MODAL: {"name": "年货节", "start": "2027-01-20", "end": "2027-01-05", "budget": "15%"},
    CallbackId.GOAL_CHECKIN_MODAL: {"value": "很多", "confidence": "11"},
    CallbackId.RETRO_NOTE_MODAL: {"category": "action", "text": "多做直播", "due": "2020-01-01"},
}

GOOD_CSV = "日期,渠道,访客数,支付金额,支付转化率,商品ID\n2026-11-20,天猫,1000,\"¥12,500\",3%,A1\n" \
           "2026-11-21,京东,800,9000,2%,A2\n合计,,1800,21500,,\n".encode("utf-8-sig")
BAD_CSVS = {
    "bad.csv": "日期,渠道,访客数\n2026-11-20,天猫,1000\n2026-11-21,天猫,很多\n".encode(),
    "baddate.csv": "日期,访客数\nsoonish,1000\n".encode(),
    "unit.csv": "日期,支付金额\n2026-11-20,$12\n".encode(),
    "nodate.csv": "渠道,访客数\n天猫,1000\n".encode(),
    "binary.csv": bytes(range(256)) * 4,
}


def everyone(bot: Bot, locale: str) -> None:
    """Everyone in the workspace reads `locale` (their Slack language)."""
    with bot.slack._lock:
        for person in PEOPLE:
            bot.slack._known_user(person).locale = locale  # type: ignore[attr-defined]
    bot.slack.set_role(LILEI, admin=True)


def say_all(bot: Bot, user: str, lines: Iterable[str]) -> None:
    for line in lines:
        said = bot.say(user, line)
        assert said.status == 200, f"{line}: {said}"


#: the answers to form submissions (field errors) during a walk
ANSWERS: list[Any] = []


def submit_forms(bot: Bot, user: str, seen: list[str]) -> None:
    """Every form opened so far and not yet submitted: empty (its required fields), wrong, then filled in."""
    for opened in bot.modals_opened(user):
        if opened["id"] in seen:
            continue
        seen.append(opened["id"])
        view = bot.slack.get_view(opened["id"])
        if view is None:
            continue
        callback = view.get("callback_id") or ""
        attempts = [{}, WRONG.get(callback), FILLED.get(callback)]
        if callback == CallbackId.KPI_IMPORT_MODAL:
            upload = bot.slack.upload_user_file(user, "kpis.csv", GOOD_CSV)
            attempts = [{}, {"file": [upload.id], "preset": "auto"}]
        for values in attempts:
            if values is None:
                continue
            result = bot.slack.submit_view(view["id"], user_id=user, values=fill(**values))
            assert result.status == 200, result
            ANSWERS.append(result.body)
            if not (isinstance(result.body, dict) and result.body.get("response_action") == "errors"):
                break


def actions_of(message: Message) -> list[tuple[str, str, Any]]:
    """(block_id, action_id, value to pick) of every button, overflow and select on a message."""
    found = []
    for b in message.blocks or []:
        elements = b.get("elements") if b.get("type") == "actions" else [b.get("accessory")] if b.get("accessory") else []
        for e in elements or []:
            if not isinstance(e, dict) or "action_id" not in e:
                continue
            if e.get("type") == "button":
                found.append((b.get("block_id"), e["action_id"], None))
            elif e.get("options"):
                found += [(b.get("block_id"), e["action_id"], o["value"]) for o in e["options"]]
    return found


def click_everything(bot: Bot, user: str, forms: list[str], clicked: set[tuple[str, str, str, Any]]) -> None:
    """Click every control on every message the bot has sent (a copy as it was, so a redraw takes none away)."""
    with bot.slack._lock:
        shown = [copy.deepcopy(m) for m in bot.slack.messages if m.is_bot and m.blocks]
    for message in shown:
        if message.is_ephemeral and message.ephemeral_user not in (user, None):
            continue
        for block_id, action_id, value in actions_of(message):
            key = (message.channel, message.ts, f"{block_id}/{action_id}", value)
            if key in clicked:
                continue
            clicked.add(key)
            result = bot.slack.click_button(message, action_id, user_id=user, value=value, block_id=block_id)
            assert result.status == 200, result
        time.sleep(0.02)
    time.sleep(0.5)
    submit_forms(bot, user, forms)


def shortcut(bot: Bot, callback_id: str, message: Message, user: str) -> None:
    result = bot.slack.send_interaction({
        "type": "message_action", "callback_id": callback_id, "user": {"id": user},
        "channel": {"id": message.channel, "name": "general"},
        "message": {"type": "message", "user": message.user, "ts": message.ts, "text": message.text},
        "message_ts": message.ts, "action_ts": "1700000000.000001",
    })
    assert result.status == 200, result


def scheduled_posts(bot: Bot) -> None:
    """The digest, the weekly report (charts, and their table when an upload fails), the automatic retro,
    reminders and the watchdog's nudge, as the scheduler sends them."""
    from jobs.tick import tick

    ctx = make_ctx(bot.db, bot.slack, bot.clock)
    today = date(2026, 11, 23)
    with bot.db.session() as s:  # two weeks of history for the report's charts and the watchdog's gap
        for back in range(2, 16):
            for channel in ("天猫", "京东"):
                for name, value in (("visits", 1000 + back), ("orders", 30), ("gmv", 3600)):
                    kpis.log_value(s, workspace_id=bot.team_id, metric_name=name, value=Decimal(value), percent=False,
                                   channel=channel, day=today - timedelta(days=back), user_id=LILEI)
    add_schedule(ctx, bot.team_id, channel=MARKETING, kind="report", days=list(range(7)))
    add_schedule(ctx, bot.team_id, channel=MARKETING, kind="digest")
    for moment in ("2026-11-24T09:00:30+08:00", "2026-11-24T10:00:30+08:00", "2026-12-01T10:00:00+08:00",
                   "2026-12-01T10:01:00+08:00"):
        tick(ctx, at(bot.clock, moment))
    bot.slack.add_response("files.getUploadURLExternal", status=200, body={"ok": False, "error": "internal_error"},
                           times=50)
    tick(ctx, at(bot.clock, "2026-12-02T09:00:30+08:00"))


def walk(bot: Bot, locale: str) -> None:
    team_lang = "zh-CN" if locale == ZH_CN else "en"
    everyone(bot, "zh-CN" if locale == ZH_CN else "en-US")
    user = LILEI
    forms: list[str] = []
    clicked: set[tuple[str, str, str, Any]] = set()
    for person in PEOPLE:  # Slack's language of each person, as the bot learns it (users.info) before replying
        bot.slack.open_app_home(person)
        bot.home(person)
    say_all(bot, user, script(team_lang))
    say_all(bot, user, [line for line, _ in CASES])
    for command in ("/task", "/goal", "/campaign", "/feedback", "/kpi import"):
        bot.say(user, command)
    wait_until(lambda: len(bot.modals_opened(user)) >= 5, what="the five forms")
    submit_forms(bot, user, forms)
    time.sleep(0.5)
    # the retro's thread: notes in both languages' prefixes, then its buttons and its close
    parent = wait_until(lambda: next((m for m in bot.slack.channel_messages(GENERAL)
                                      if m.is_bot and m.thread_ts is None and "R-1" in m.all_text()), None),
                        what="the retro's parent")
    for line in ("做得好：直播带货效果好", "问题：横幅晚了", "改进：多做直播", f"行动：<@{BO}> 整理直播数据 due:fri",
                 "went well: hello", "闲聊"):
        bot.slack.post_user_message(GENERAL, user, line, thread_ts=parent.ts)
    person = bot.slack.post_user_message(GENERAL, BO, "优惠券规则看不懂", deliver=False)
    shortcut(bot, CallbackId.TASK_FROM_MESSAGE, person, user)
    shortcut(bot, CallbackId.FEEDBACK_FROM_MESSAGE, person, user)
    wait_until(lambda: len(bot.modals_opened(user)) >= 7, what="the shortcuts' forms")
    submit_forms(bot, user, forms)
    bot.slack.share_file_in_dm(user, "kpis.csv", GOOD_CSV)
    for name, content in BAD_CSVS.items():
        bot.slack.share_file_in_dm(user, name, content)
    bot.slack.share_file_in_dm(user, "notes.pdf", b"%PDF-1.4")
    wait_until(lambda: sum(1 for m in bot.slack.messages if m.is_bot and m.channel == bot.slack.im_channel(user))
               >= 2 + len(BAD_CSVS), timeout=10, what="the import previews")
    time.sleep(0.5)
    click_everything(bot, user, forms, clicked)
    click_everything(bot, user, forms, clicked)  # what the first clicks brought: a checkin's card, a closed retro…
    bot.slack.open_app_home(user)
    bot.home(user)
    time.sleep(0.3)
    with bot.slack._lock:
        home = copy.deepcopy(bot.slack.home_view(user))
    if home is not None:
        for block_id, action_id, value in actions_of(Message(channel="", ts="", text="", user="", blocks=home["blocks"])):
            bot.slack.click_button(home["id"], action_id, user_id=user, value=value, block_id=block_id)
        time.sleep(0.5)
        submit_forms(bot, user, forms)
    say_all(bot, user, ["/retro close R-1", "/retro close R-2"])
    scheduled_posts(bot)
    time.sleep(0.5)


def everything_shown(bot: Bot) -> list[tuple[str, str]]:
    """(where, text) of every text the bot showed anyone: acks, response_url answers, Web API calls, views and
    the field errors of form submissions."""
    with bot.slack._lock:
        sent = [(f"{m.source} {m.channel}", {"text": m.text, "blocks": m.blocks, "attachments": m.attachments,
                                             "history": m.history}) for m in bot.slack.messages if m.is_bot]
        calls = [(c.method, c.args) for c in bot.slack.calls if not c.method.startswith(("users.", "auth.", "conversations."))]
        views = [("view", v) for v in bot.slack._view_objects.values()]  # type: ignore[attr-defined]
        acks = [("submission", r) for r in ANSWERS]
    shown = []
    for kind, payload in [*sent, *calls, *views, *acks]:
        for where, text in strings(payload, json_strings=True):
            leaf = re.sub(r"\[\d+\]", "", where).rsplit(".", 1)[-1]
            if leaf in ("text", "alt_text", "title", "initial_comment", "errors") or ".errors." in where:
                if "private_metadata" in where or ".url" in where:
                    continue
                shown.append((f"{kind} {where}", text))
    return shown


@pytest.mark.parametrize("locale", [ZH_CN, EN])
def test_everything_the_bot_shows_is_in_the_readers_language(bot: Bot, locale: str) -> None:
    started = time.monotonic()
    ANSWERS.clear()
    walk(bot, locale)
    shown = everything_shown(bot)
    assert len(shown) > 1000, f"the walk saw only {len(shown)} texts"
    check = english_runs if locale == ZH_CN else chinese_in
    problems: dict[str, str] = {}
    for where, text in shown:
        found = check(text, TYPED)
        if found:
            problems.setdefault(f"{found[:3]} in {text[:300]!r}", where)
    assert not problems, f"{len(problems)} texts not in {locale}:\n" + "\n".join(
        f"{where}: {what}" for what, where in sorted(problems.items(), key=lambda kv: kv[1]))
    # a task card replied to a command says the language it was written in, so a click redraws it in that one
    with bot.slack._lock:  # each as the command's answer showed it, before any click redrew it
        replies = [(m.history[0]["blocks"] if m.history else m.blocks) or [] for m in bot.slack.messages
                   if m.is_bot and m.source == "command_ack"]
    cards = [blocks for blocks in replies  # a new task's card (a changed task's card has no context block to mark)
             if any(str(b.get("block_id", "")).startswith(f"{BlockId.TASK_ACTIONS}:") for b in blocks)
             and any(b.get("type") == "context" for b in blocks)]
    assert cards and all(views.written_locale(blocks) == locale for blocks in cards), cards[:1]
    assert time.monotonic() - started < 60


def test_every_catalog_has_the_same_keys() -> None:
    assert set(catalog(ZH_CN)) == set(catalog(EN)) - {k for k in catalog(EN) if k.endswith(".one")}
