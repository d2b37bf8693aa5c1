"""Error replies in the reader's language: every raise site names a catalog key, both catalogs have it with the
same placeholders, English replies read exactly as before, and a zh-CN user reads them in Chinese."""

from __future__ import annotations

import ast
import string
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import i18n
from bot.errors import NotFound, UserError
from bot.i18n import EN, ZH_CN, Msg, msg
from bot.render.reply import error_reply
from bot.services.refs import PREFIX, not_found
from commands import COMMANDS
from commands.base import CommandContext, localized_error_reply, run_handler, usage_in
from commands.grammar import ParseError, parse_date, parse_number, parse_ref
from storage.db import Database, open_database
from tests.conftest import Clock
from tests.support.harness import ANA, LILEI, NOW, Bot, Said, new_team_id, running_bot

ROOT = Path(__file__).resolve().parents[2]
#: where user-facing errors are raised (and where the interactive forms turn them into field errors)
SOURCES = sorted(
    [*(ROOT / "commands").glob("*.py"), *(ROOT / "bot" / "services").glob("*.py"), ROOT / "bot" / "errors.py"]
)
ERROR_CLASSES = {"ParseError", "UserError", "NotFound", "LocalizedError"}
HAN = "U0HAN"  # 韩梅梅, Slack locale zh-CN, new to the bot


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# ---- the catalog keys used in the source ----------------------------------------------------------


@dataclass(frozen=True)
class Use:
    where: str  # file:line
    key: str  # the key, or for f"error.no_{kind}" the literal prefix ("error.no_")
    family: bool  # key is a prefix: every catalog key that starts with it may be meant
    params: frozenset[str] | None  # the keyword arguments given (None when **kwargs hides them)
    call: str = ""  # ParseError.of, UserError.of, NotFound.of, LocalizedError.of, msg or t


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "of" and isinstance(func.value, ast.Name):
        return f"{func.value.id}.of" if func.value.id in ERROR_CLASSES else None
    if isinstance(func, ast.Name) and func.id in ("msg", "t"):
        return func.id
    return None


def catalog_uses() -> list[Use]:
    """`ParseError.of("key", …)`, `UserError.of(…)`, `NotFound.of(…)`, `msg("key", …)` and `t("error.…", …)` calls."""
    uses: list[Use] = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args or (name := _call_name(node)) is None:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                key, family = first.value, False
            elif isinstance(first, ast.JoinedStr) and isinstance(first.values[0], ast.Constant):
                key, family = str(first.values[0].value), True
            else:
                continue
            if name == "t" and not key.startswith("error."):
                continue
            given = [kw.arg for kw in node.keywords]
            params = None if None in given else frozenset(k for k in given if k and k != "usage")
            if name == "t":
                params = None  # t(key, locale, **kwargs): placeholders are checked by the i18n tests
            uses.append(Use(f"{path.relative_to(ROOT)}:{node.lineno}", key, family, params, name))
    return uses


USES = catalog_uses()


def test_the_scan_finds_the_raise_sites() -> None:
    raised = [u for u in USES if u.call != "t"]  # not the forms' field errors
    assert len(raised) >= 130, "the scan sees every ParseError.of / UserError.of / msg call"
    assert any(u.key == "error.parse.date.unknown" for u in USES)
    assert any(u.family and u.key == "error.no_" for u in USES)


@pytest.mark.parametrize("use", USES, ids=lambda u: f"{u.where} {u.key}")
def test_every_key_used_is_in_both_catalogs_with_the_same_placeholders(use: Use) -> None:
    en, zh = i18n.catalog(EN), i18n.catalog(ZH_CN)
    keys = sorted(k for k in en if k.startswith(use.key)) if use.family else [use.key]
    assert keys, f"{use.where}: no catalog key starts with {use.key!r}"
    for key in keys:
        assert key in en, f"{use.where}: {key!r} missing from en.json"
        assert key in zh, f"{use.where}: {key!r} missing from zh_CN.json"
        assert placeholders(zh[key]) == placeholders(en[key]), key
        if use.params is not None:
            assert placeholders(en[key]) == use.params, f"{use.where}: {key} takes {placeholders(en[key])}"


def test_no_error_is_raised_with_a_literal_text() -> None:
    """A literal `ParseError("…")` would reach zh-CN users in English: raise `ParseError.of("key", …)` instead."""
    literal = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ERROR_CLASSES
                and node.args and isinstance(node.args[0], ast.Constant | ast.JoinedStr)
            ):
                literal.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert literal == []


def test_every_error_key_in_the_catalog_is_used() -> None:
    used = {u.key for u in USES if not u.family}
    prefixes = tuple(u.key for u in USES if u.family)
    unused = [k for k in i18n.catalog(EN) if k.startswith("error.") and k not in used and not k.startswith(prefixes)]
    assert unused == []


# ---- the errors themselves ------------------------------------------------------------------------


def test_parse_error_message_stays_english_and_text_follows_the_locale() -> None:
    err = ParseError.of("error.parse.date.unknown", usage="/task …", value="`soonish`", hint=msg("error.parse.hint.date"))
    english = "`soonish` isn't a date I understand — use 2026-12-01, 12-01, 12.15, today, tomorrow, fri, next fri, +3d, in 2 weeks, eow, eom or eoq"
    assert err.message == english and str(err) == english and err.text(EN) == english and err.text() == english
    assert err.text(ZH_CN).startswith("无法识别日期 `soonish`，可以写2026-12-01、")
    assert err.text("zh-CN") == err.text(ZH_CN), "Slack's tag works too"
    assert err.usage == "/task …"
    plain = ParseError("`x` is wrong", "/task add <title>")
    assert plain.text(ZH_CN) == plain.message == "`x` is wrong" and plain.msg is None


def test_with_usage_keeps_the_key() -> None:
    with pytest.raises(ParseError) as caught:
        parse_date("soonish", today=NOW.date())
    moved = caught.value.with_usage("U")
    assert moved.usage == "U" and moved.text(ZH_CN) == caught.value.text(ZH_CN) != moved.message
    assert moved.with_usage("V") is moved, "a usage already given stays"


def test_nested_messages_and_lists_render_in_one_language() -> None:
    m = Msg("error.goal.missing", {"missing": [msg("error.goal.a_title"), "`by:`"]})
    assert m.render(EN) == "A SMART goal needs a title, `by:` — what is measured, the number to reach and the deadline."
    assert m.render(ZH_CN) == "SMART目标还缺少标题、`by:`：衡量什么、要达到的数字和截止日期。"
    assert str(m) == m.render(EN)


@pytest.mark.parametrize("kind", sorted(PREFIX))
def test_not_found_for_every_kind(kind: str) -> None:
    err = not_found(kind, 9)
    assert isinstance(err, NotFound) and isinstance(err, UserError)
    assert err.message.startswith("There is no ") and f"`{PREFIX[kind]}-9`" in err.message
    assert err.text(ZH_CN).startswith("本工作区没有") and f"`{PREFIX[kind]}-9`" in err.text(ZH_CN)


@pytest.mark.parametrize(
    ("call", "english", "chinese"),
    [
        (lambda: parse_date("2026-02-30", today=NOW.date()),
         "`2026-02-30` isn't a real date — February 2026 has 28 days", "`2026-02-30` 不是有效的日期：2026年2月只有28天"),
        (lambda: parse_number(""), "a number is missing — use 12500, 12,500, 12.5k, 1.2m, 15%, ¥12,500 or $1,200",
         "缺少数字，可以写12500、12,500、12.5k、1.2m、3万、15%、¥12,500或$1,200"),
        (lambda: parse_ref("K-3", "task"), "`K-3` is a KPI metric; expected a task like T-12",
         "`K-3` 是KPI指标编号，这里需要任务编号，例如T-12"),
        (lambda: parse_ref(" ", "feedback"), "a feedback item is missing — give one like F-12",
         "缺少反馈编号，请给出一个，例如F-12"),
        (lambda: parse_ref("", "retro"), "a retrospective is missing — give one like R-12",
         "缺少复盘编号，请给出一个，例如R-12"),
    ],
)
def test_grammar_errors_in_both_languages(call: Callable[[], object], english: str, chinese: str) -> None:
    with pytest.raises(ParseError) as caught:
        call()
    assert caught.value.message == english
    assert caught.value.text(ZH_CN) == chinese


def test_the_english_error_reply_is_the_shared_one() -> None:
    for usage in ("/task add <title>\n/task list", None):
        mine, shared = localized_error_reply("`x` is wrong", usage, EN), error_reply("`x` is wrong", usage)
        assert (mine.text, mine.blocks, mine.in_channel) == (shared.text, shared.blocks, shared.in_channel)
    chinese = localized_error_reply("错了", "/task add <title>", ZH_CN)
    assert chinese.text == "错了\n用法：\n/task add <title>"
    assert chinese.blocks[1]["text"]["text"] == "*用法*\n```/task add <title>```"


def _context(db: Database, locale: str | None) -> CommandContext:
    ctx = CommandContext(db=db, workspace_id=new_team_id(), user_id=ANA, channel_id="C0GENERAL", now=NOW,
                         zone=ZoneInfo("Asia/Shanghai"))
    if locale:
        ctx.locale = locale
    return ctx


def test_an_unexpected_failure_is_explained_in_the_readers_language(sqlite_db: Database) -> None:
    def broken(text: str, ctx: CommandContext) -> object:
        raise RuntimeError("boom")

    english = run_handler(broken, "x", _context(sqlite_db, None), "U").reply  # type: ignore[arg-type]
    assert english.text.startswith("Something went wrong on our side (error id `")
    assert english.text.endswith("`). Nothing was saved; please try again.")
    chinese = run_handler(broken, "x", _context(sqlite_db, ZH_CN), "U").reply  # type: ignore[arg-type]
    assert chinese.text.startswith("我们这边出了问题（错误编号 `") and "Usage" not in chinese.text


#: bad input for each command, answered by the handler the listener runs (run_handler with COMMANDS)
HANDLER_CASES = [
    "/task add", "/task add Banner due:someday", "/task add Banner colour:red", "/task add Banner campaign:G-1",
    "/task add Banner campaign:C-9", "/task add Banner @nobody", "/task add Banner due:fri start:sat",
    "/task done", "/task due", "/task block T-1", "/task list whatever", "/task frobnicate",
    "/goal add Grow", "/goal add Grow metric:gmv target:lots by:eom", "/goal add Grow metric:gmv target:1 by:2026-01-01",
    "/goal show", "/goal checkin G-1 100 confidence:11", "/goal list junk",
    "/kpi log visits", "/kpi log visits 1 date:+3d", "/kpi define x agg:median", "/kpi show nosuch",
    "/kpi show x period:forever", "/kpi list junk",
    "/campaign add Sale", "/campaign add Sale start:11-11 end:11-01", "/campaign spend", "/campaign doc C-1 nope",
    "/feedback #tag", "/feedback list junk", "/retro start junk", "/retro close",
    "/mkt schedule digest 25:00", "/mkt schedule digest 9", "/mkt schedule digest 09:30 days:funday",
    "/mkt schedule digest 09:30 tz:Mars/Base", "/mkt unschedule S-9",
]


def test_every_command_answers_bad_input_in_chinese_for_a_zh_cn_reader(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'mktbot.db'}")
    try:
        for line in HANDLER_CASES:
            command, _, text = line.partition(" ")
            handler, usage = COMMANDS[command].handle, COMMANDS[command].usage
            english = run_handler(handler, text, _context(db, EN), usage).reply
            chinese = run_handler(handler, text, _context(db, ZH_CN), usage).reply
            assert english.text.endswith(f"\nUsage:\n{usage}"), line
            assert chinese.text.endswith(f"\n用法：\n{usage_in(usage, ZH_CN)}"), line  # its notes in Chinese too
            message = chinese.blocks[0]["text"]["text"]
            assert message.startswith(":warning: ") and message != english.blocks[0]["text"]["text"], line
            assert any("\u4e00" <= ch <= "\u9fff" for ch in message), (line, message)
            assert "isn't" not in message and " is not " not in message, (line, message)
    finally:
        db.dispose()


# ---- over Slack: a zh-CN user and an English user type the same bad input -------------------------


@pytest.fixture(scope="module")
def slack_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    """The whole stack (LocalSlack <-> the Bolt app over signed HTTP); 李雷's Slack is in zh-CN, Ana's in English."""
    database = open_database(f"sqlite:///{tmp_path_factory.mktemp('i18n') / 'mktbot.db'}")
    try:
        with running_bot(database, clock=Clock(NOW), team_id=new_team_id()) as bot:
            for line in ("/goal add \"Q4 GMV\" metric:gmv target:¥2.5m by:eoq", "/task add Banner"):
                assert ":warning:" not in bot.say(ANA, line)
            yield bot
    finally:
        database.dispose()


def _warmed(bot: Bot, user: str) -> None:
    """A user's first command is answered in the workspace default while a lazy listener looks up their locale."""
    deadline = time.monotonic() + 5
    while not bot.app.locales.is_cached(bot.team_id, user):
        assert time.monotonic() < deadline, "the locale was never cached"
        time.sleep(0.02)


def _problem(said: Said) -> str:
    """The first section of an error reply, without its :warning:."""
    assert said.status == 200 and said.ephemeral, said
    first = said.body["blocks"][0]["text"]["text"]
    assert first.startswith(":warning: "), said
    return str(first.removeprefix(":warning: "))


SLACK_CASES = [
    # bad date
    ("/task add Banner due:someday",
     "`someday` isn't a date I understand — use 2026-12-01, 12-01, 12.15, today, tomorrow, fri, next fri, +3d, in 2 weeks, eow, eom or eoq",
     "无法识别日期 `someday`，可以写2026-12-01、12-01、12.15、15号、今天、明天、周五、下周五、3天后、月底、today、tomorrow、fri、+3d、+2w、eow、eom或eoq"),
    # bad number
    ("/goal checkin G-1 lots",
     "`lots` isn't a number I understand — use 12500, 12,500, 12.5k, 1.2m, 15%, ¥12,500 or $1,200",
     "无法识别数字 `lots`，可以写12500、12,500、12.5k、1.2m、3万、15%、¥12,500或$1,200"),
    # unknown reference: the wrong kind, and one that does not exist
    ("/task done G-1", "`G-1` is a goal; expected a task like T-12", "`G-1` 是目标编号，这里需要任务编号，例如T-12"),
    ("/task add Banner campaign:C-9", "There is no campaign `C-9` in this workspace.", "本工作区没有活动 `C-9`。"),
    # missing title
    ("/task add due:fri", "A task needs a title, e.g. `/task add \"Draft 双十一 banner\" @ana due:fri`.",
     "任务需要一个标题，例如 `/task add \"双十一 banner 初稿\" @ana due:fri`。"),
    ("/goal add metric:gmv",
     "A SMART goal needs a title, `target:`, `by:` — what is measured, the number to reach and the deadline.",
     "SMART目标还缺少标题、`target:`、`by:`：衡量什么、要达到的数字和截止日期。"),
    # a rule checked by a service
    ("/campaign add Sale start:11-11 end:11-01", "The end 2026-11-01 is before the start 2026-11-11.",
     "结束日期2026-11-01早于开始日期2026-11-11。"),
]


def test_the_first_reply_to_a_zh_cn_user_is_in_the_default_then_chinese(slack_bot: Bot) -> None:
    """No users.info on the ack path: the locale comes from the cache, which a lazy listener fills."""
    slack_bot.slack.add_user(HAN, "meimei", real_name="韩梅梅", tz="Asia/Shanghai", locale="zh-CN")
    first = slack_bot.say(HAN, "/task add due:fri")
    assert _problem(first).startswith("A task needs a title"), "the workspace default until the locale is known"
    _warmed(slack_bot, HAN)
    assert _problem(slack_bot.say(HAN, "/task add due:fri")).startswith("任务需要一个标题")


@pytest.mark.parametrize(("line", "english", "chinese"), SLACK_CASES, ids=[c[0] for c in SLACK_CASES])
def test_bad_input_in_english_and_chinese(slack_bot: Bot, line: str, english: str, chinese: str) -> None:
    slack_bot.say(LILEI, "/kpi list")
    _warmed(slack_bot, LILEI)
    said_en, said_zh = slack_bot.say(ANA, line), slack_bot.say(LILEI, line)
    assert _problem(said_en) == english
    assert said_en.fallback.startswith(english + "\nUsage:\n/")
    assert said_en.body["blocks"][1]["text"]["text"].startswith("*Usage*\n```/")
    assert _problem(said_zh) == chinese
    assert said_zh.fallback.startswith(chinese + "\n用法：\n/")
    usage = COMMANDS[line.split()[0]].usage
    assert said_en.body["blocks"][1]["text"]["text"] == f"*Usage*\n```{usage}```"
    assert said_zh.body["blocks"][1]["text"]["text"] == f"*用法*\n```{usage_in(usage, ZH_CN)}```", \
        "the same forms (command syntax), the notes under them in Chinese"


def test_traditional_chinese_readers_get_chinese_not_english() -> None:
    from bot.i18n import EN, ZH_CN, normalize

    for tag in ("zh-TW", "zh-HK", "zh-Hant-TW", "zh_TW", "zh-CN", "zh"):
        assert normalize(tag) == ZH_CN, tag
    assert normalize("en-GB") == EN and normalize("ja-JP") is None
