"""Bad input over real HTTP: a private reply that names the problem and shows the usage, and nothing written.

Also: `help` on every command, mentions typed into titles never ping anyone, and requests that Slack did
not sign (or signed too long ago) are refused before anything is written.
"""

from __future__ import annotations

import re
import time

import pytest

from bot.localslack.signing import signed_headers
from tests.support.harness import ANA, BO, Bot, Said, as_json, new_team_id
from tests.support.text import texts

#: the workspace whose records the "exists only in another workspace" cases point at
OTHER_TEAM = new_team_id()

USAGE_HEAD = {
    "/task": "/task add <title>",
    "/goal": "/goal add <title>",
    "/kpi": "/kpi log <metric>",
    "/campaign": "/campaign add <name>",
    "/feedback": "/feedback <text>",
    "/mkt": "/mkt schedule digest",
}


@pytest.fixture(scope="module")
def seeded(module_bot: Bot) -> Bot:
    """This workspace: K-1..K-4, G-1, C-1, T-1, F-1. The other workspace: G-1/G-2, C-1/C-2, T-1/T-2, F-1/F-2."""
    bot = module_bot
    for line in (
        "/kpi define conversion = orders / visits",
        '/goal add "Q4 GMV" metric:gmv target:¥2.5m by:eoq',
        "/campaign add 双十一 start:11-01 end:11-30",
        "/task add Banner",
        "/feedback hello",
    ):
        said = bot.say(ANA, line)
        assert said.status == 200 and ":warning:" not in said, said
    for line in (
        '/goal add "B1" metric:gmv target:1 by:eoq',
        '/goal add "B2" metric:gmv target:1 by:eoq',
        "/campaign add B1 start:11-01 end:11-30",
        "/campaign add B2 start:11-01 end:11-30",
        "/task add B1",
        "/task add B2",
        "/feedback B1",
        "/feedback B2",
    ):
        said = bot.say(BO, line, team_id=OTHER_TEAM)
        assert said.status == 200 and ":warning:" not in said, said
    return bot


# (command line, what the reply must say: a case-insensitive regex)
CASES: list[tuple[str, str]] = [
    # ---- /task
    ("/task add", r"needs a title"),
    ("/task add due:fri", r"needs a title"),
    ("/task add Banner colour:red", r"unknown option `colour:`"),
    ("/task add Banner due:someday", r"`someday` isn't a date"),
    ("/task add Banner due:2026-02-30", r"isn't a real date"),
    ("/task add Banner due:fri start:sat", r"before the start"),
    ("/task add Banner @nobody", r"don't know anyone called `@nobody`"),
    ("/task add Banner <@U0ANA|ana> @bo", r"one owner"),
    ('/task add "unterminated', r"never closed"),
    ("/task add Banner campaign:C-9", r"no campaign `C-9`"),
    ("/task add Banner campaign:C-2", r"no campaign `C-2`"),  # C-2 exists only in the other workspace
    ("/task add Banner goal:G-2", r"no goal `G-2`"),
    ("/task add Banner campaign:G-1", r"`G-1` is a goal; expected a campaign"),
    ("/task add Banner campaign:X-1", r"`X-1` isn't a campaign"),
    ("/task done", r"which task"),
    ("/task done T-9", r"no task `T-9`"),
    ("/task done T-2", r"no task `T-2`"),
    ("/task done G-1", r"`G-1` is a goal; expected a task"),
    ("/task done T-1 now please", r"extra text `now please`"),
    ("/task start T-0", r"numbers start at T-1"),
    ("/task start T-99999999999", r"too big"),
    ("/task block T-1", r"why it is blocked"),
    ("/task block T-9 waiting for copy", r"no task `T-9`"),
    ("/task assign T-1", r"one new owner"),
    ("/task assign T-1 @nobody", r"don't know anyone called `@nobody`"),
    ("/task assign T-2 @bo", r"no task `T-2`"),
    ("/task due T-1", r"new due date"),
    ("/task due T-1 someday", r"`someday` isn't a date"),
    ("/task list whatever", r"`whatever` is not a list filter"),
    ("/task list campaign:C-9", r"no campaign `C-9`"),
    ("/task list campaign:C-2", r"no campaign `C-2`"),
    ("/task frobnicate", r"`frobnicate` is not a /task action"),
    # ---- /goal
    ("/goal add", r"needs a title"),
    ("/goal add metric:gmv target:1000 by:eom", r"needs a title"),
    ("/goal add Grow", r"`metric:`, `target:`, `by:`"),
    ("/goal add Grow metric:gmv target:lots by:eom", r"`lots` isn't a number"),
    ("/goal add Grow metric:gmv target:1000 by:whenever", r"`whenever` isn't a date"),
    ("/goal add Grow metric:gmv target:1000 by:2026-01-01", r"in the past"),
    ("/goal add Grow metric:gmv target:1000 by:eom start:2026-12-31", r"before the start"),
    ("/goal add Grow metric:gmv target:1000 by:eom colour:red", r"unknown option `colour:`"),
    ("/goal add Grow metric:gmv target:1000 by:eom target:3", r"`target:` is given twice"),
    ("/goal add Grow metric:gmv target:1000 by:eom owner:@nobody", r"don't know anyone called `@nobody`"),
    ("/goal add Grow metric:gmv target:1000 by:eom parent:G-9", r"no goal `G-9`"),
    ("/goal add Grow metric:gmv target:1000 by:eom parent:G-2", r"no goal `G-2`"),
    ("/goal add Grow metric:gmv target:1000 by:eom parent:C-1", r"`C-1` is a campaign; expected a goal"),
    ("/goal show", r"which goal to show"),
    ("/goal show G-9", r"no goal `G-9`"),
    ("/goal show G-2", r"no goal `G-2`"),
    ("/goal show T-1", r"`T-1` is a task; expected a goal"),
    ("/goal show G-1 please", r"which goal to show"),
    ("/goal close G-9", r"no goal `G-9`"),
    ("/goal checkin G-1", r"goal and its current value"),
    ("/goal checkin G-1 lots", r"`lots` isn't a number"),
    ("/goal checkin G-1 100 confidence:11", r"`confidence:` is a whole number from 1 to 10"),
    ("/goal checkin G-2 100", r"no goal `G-2`"),
    ("/goal list junk", r"takes only `all`"),
    ("/goal frobnicate", r"`frobnicate` is not a /goal action"),
    # ---- /kpi
    ("/kpi log", r"metric and a value"),
    ("/kpi log visits", r"`visits` has no value"),
    ("/kpi log visits lots", r"`lots` isn't a number"),
    ("/kpi log 100 visits", r"`100` is not a metric name"),
    ("/kpi log visits 100 date:someday", r"`someday` isn't a date"),
    ("/kpi log visits 100 date:+3d", r"in the future"),
    ("/kpi log visits 1 visits 2", r"`visits` is given twice"),
    ("/kpi log visits 1 colour:red", r"unknown option `colour:`"),
    ("/kpi log conversion 0.5", r"`conversion` is computed as orders / visits"),
    ("/kpi define", r"name the metric"),
    ("/kpi define x agg:median", r"`median` isn't a valid agg"),
    ("/kpi define x better:sideways", r"`sideways` isn't a valid better"),
    ("/kpi define x = a", r"`= <a> / <b>`"),
    ("/kpi define x = x / y", r"cannot be computed from itself"),
    ("/kpi define y = conversion / visits", r"`conversion` is itself a ratio"),
    ("/kpi show", r"name the metric"),
    ("/kpi show nosuch", r"no KPI metric called `nosuch`"),
    ("/kpi show conversion period:forever", r"`period:forever` is not a period"),
    ("/kpi show conversion period:2026-11-20..2026-11-01", r"ends .* before it starts"),
    ("/kpi show conversion by:region", r"`by:region`"),
    ("/kpi list junk", r"takes nothing after it"),
    ("/kpi frobnicate", r"`frobnicate` is not a /kpi action"),
    # ---- /campaign
    ("/campaign add", r"needs a name"),
    ("/campaign add start:11-01 end:11-11", r"needs a name"),
    ("/campaign add Sale", r"`start:`, `end:`"),
    ("/campaign add Sale start:someday end:11-11", r"`someday` isn't a date"),
    ("/campaign add Sale start:11-11 end:11-01", r"end .* is before the start"),
    ("/campaign add Sale start:11-01 end:11-11 budget:lots", r"`lots` isn't a number"),
    ("/campaign add Sale start:11-01 end:11-11 budget:15%", r"not a percentage"),
    ("/campaign add Sale start:11-01 end:11-11 budget:-5", r"cannot be negative"),
    ("/campaign add Sale start:11-01 end:11-11 goal:G-9", r"no goal `G-9`"),
    ("/campaign add Sale start:11-01 end:11-11 goal:G-2", r"no goal `G-2`"),
    ("/campaign add Sale start:11-01 end:11-11 goal:T-1", r"`T-1` is a task; expected a goal"),
    ("/campaign add Sale start:11-01 end:11-11 colour:red", r"unknown option `colour:`"),
    ("/campaign show", r"which campaign to show"),
    ("/campaign show C-9", r"no campaign `C-9`"),
    ("/campaign show C-2", r"no campaign `C-2`"),
    ("/campaign show G-1", r"`G-1` is a goal; expected a campaign"),
    ("/campaign show C-1 junk", r"extra `junk`"),
    ("/campaign close C-2", r"no campaign `C-2`"),
    ("/campaign spend C-1", r"one amount"),
    ("/campaign spend C-1 lots", r"`lots` isn't a number"),
    ("/campaign spend C-1 -100", r"positive amount"),
    ("/campaign spend C-1 10%", r"not a percentage"),
    ("/campaign spend C-1 100 date:someday", r"`someday` isn't a date"),
    ("/campaign spend C-2 100", r"no campaign `C-2`"),
    ("/campaign risk C-1", r"describe the risk"),
    ("/campaign risk C-9 stock-out", r"no campaign `C-9`"),
    ("/campaign doc C-1", r"document's link"),
    ("/campaign doc C-1 not-a-link", r"`not-a-link` is not a link"),
    ("/campaign doc C-2 https://docs.example.com/plan", r"no campaign `C-2`"),
    ("/campaign list junk", r"takes only `all`"),
    ("/campaign frobnicate", r"`frobnicate` is not a /campaign action"),
    # ---- /feedback
    ("/feedback #only-a-tag", r"write the feedback"),
    ("/feedback Too slow from:robot", r"`robot` isn't a valid from"),
    ("/feedback Too slow colour:red", r"unknown option `colour:`"),
    ("/feedback Too slow campaign:C-9", r"no campaign `C-9`"),
    ("/feedback Too slow campaign:C-2", r"no campaign `C-2`"),
    ("/feedback Too slow campaign:G-1", r"`G-1` is a goal; expected a campaign"),
    ("/feedback Too slow goal:G-2", r"no goal `G-2`"),
    ("/feedback list junk", r"takes `campaign:<C>` and one `#tag`"),
    ("/feedback list campaign:C-2", r"no campaign `C-2`"),
    # ---- a value in another unit than its metric's is refused, never relabelled
    ("/kpi log gmv $100", r"`gmv` is counted in ¥, not \$"),
    ("/goal add pct metric:gmv target:15% by:eoq", r"counted in ¥, not %"),
    ("/goal checkin G-1 15%", r"counted in ¥, not %"),
    ("/campaign spend C-1 100 date:明天", r"in the future"),
    # ---- /mkt
    ("/mkt frobnicate", r"`frobnicate` is not a /mkt action"),
    ("/mkt digest later", r"`/mkt digest now`"),
    ("/mkt schedule digest 25:00", r"`25:00` isn't a time of day"),
    ("/mkt schedule digest 9", r"needs minutes or am/pm"),
    ("/mkt schedule digest 09:30 tz:Mars/Base", r"not an IANA time zone"),
    ("/mkt schedule digest 09:30 days:funday", r"`funday` isn't a day"),
    ("/mkt schedule digest 09:30 colour:red", r"unknown option `colour:`"),
    ("/mkt schedule report weekly 09:00", r"weekday and a time"),
    ("/mkt schedule report weekly mon-fri 09:00", r"one day"),
    ("/mkt schedule report weekly fri 17:00 days:mon", r"`days:` is for the daily digest"),
    ("/mkt schedule brunch 09:00", r"`brunch` cannot be scheduled"),
    ("/mkt unschedule banana", r"schedule's id"),
    ("/mkt unschedule S-9", r"no active schedule"),
]


def assert_private_error(said: Said, problem: str) -> None:
    assert said.status == 200, f"HTTP {said.status}: {said}"
    assert not said.late
    assert said.ephemeral, f"an error must be private, got {as_json(said.body)}"
    assert said.message is not None and said.message.ephemeral_user == ANA
    assert "Something went wrong" not in said, f"a crash, not a user error: {said}"
    assert re.search(problem, said, re.IGNORECASE), f"the reply should say /{problem}/; it said:\n{said}"


@pytest.mark.parametrize(("line", "problem"), CASES, ids=[line for line, _ in CASES])
def test_bad_input_is_explained_privately_and_writes_nothing(seeded: Bot, line: str, problem: str) -> None:
    teams = (seeded.team_id, OTHER_TEAM)
    before = seeded.row_counts(*teams)
    said = seeded.say(ANA, line)
    after = seeded.row_counts(*teams)
    changed = {t: (before[t], after.get(t)) for t in before if before[t] != after.get(t)}
    assert not changed, f"{line!r} wrote rows (table: before, after): {changed}\nreply: {said}"
    assert_private_error(said, problem)


@pytest.mark.parametrize(("line", "problem"), CASES, ids=[line for line, _ in CASES])
def test_bad_input_reply_shows_the_usage(seeded: Bot, line: str, problem: str) -> None:
    """PRODUCT.md: every bad input gets a reply that says what was wrong *and shows the usage*."""
    said = seeded.say(ANA, line)
    assert said.ephemeral and ":warning:" in said, said
    usage = USAGE_HEAD[line.split()[0]]
    assert usage in said, f"the reply should show the usage ({usage} …); it said:\n{said}"


HELP_WORDS = ["help", "HELP", "帮助", "-h", "?"]


@pytest.mark.parametrize("command", list(USAGE_HEAD))
@pytest.mark.parametrize("word", HELP_WORDS)
def test_every_command_answers_help(seeded: Bot, command: str, word: str) -> None:
    before = seeded.row_counts(seeded.team_id)
    said = seeded.say(ANA, f"{command} {word}")
    assert said.status == 200 and said.ephemeral, as_json(said.body)
    assert ":warning:" not in said, said
    if command == "/mkt":  # the bot's overview: every command, with an example
        for name in ("/task", "/goal", "/kpi", "/campaign", "/feedback", "/mkt"):
            assert name in said, said
    else:
        assert USAGE_HEAD[command] in said, said
    assert seeded.row_counts(seeded.team_id) == before


# ---- mentions typed into titles ------------------------------------------------------------------

SPECIAL_MENTION = re.compile(r"<!(channel|here|everyone)\b[^>]*>")


@pytest.mark.parametrize(
    ("line", "table", "column", "stored"),
    [
        ("/task add <!channel> launch", "tasks", "title", "<!channel> launch"),  # the user typed @channel
        ("/task add &lt;!channel&gt; launch", "tasks", "title", "<!channel> launch"),  # typed <!channel>
        ('/goal add "<!channel> launch" metric:gmv target:1 by:eoq', "goals", "title", "<!channel> launch"),
        ('/campaign add "<!here> launch" start:11-01 end:11-30', "campaigns", "name", "<!here> launch"),
    ],
    ids=["task-mention", "task-typed-brackets", "goal-in-channel", "campaign-in-channel"],
)
def test_special_mentions_in_titles_are_stored_as_typed_and_never_ping(
    bot: Bot, line: str, table: str, column: str, stored: str
) -> None:
    said = bot.say(ANA, line)
    assert said.status == 200 and ":warning:" not in said, said
    assert bot.rows(f"SELECT {column} FROM {table} WHERE workspace_id = :team", team=bot.team_id) == [
        (stored,)
    ]
    escaped = stored.replace("<", "&lt;").replace(">", "&gt;")
    assert escaped in said, f"the title should be shown escaped as {escaped!r}: {said}"
    for text in texts(said.body, plain_text=False):
        assert not SPECIAL_MENTION.search(text), (
            f"a real special mention would ping the channel ({'in channel' if said.in_channel else 'ephemeral'}): "
            f"{text!r}"
        )
    listing = bot.say(ANA, f"{line.split()[0]} list")
    assert escaped in listing, listing
    for text in texts(listing.body, plain_text=False):
        assert not SPECIAL_MENTION.search(text), text


MENTION_SCRIPT = [
    "/task add <!channel> launch",
    "/task start T-1",
    "/task block T-1 <!here> waiting for copy",
    "/task list all",
    '/goal add "<!channel> goal" metric:gmv target:100 by:eoq channel:<!here>',
    "/goal checkin G-1 5 <!channel> note",
    "/goal show G-1",
    "/goal list",
    '/campaign add "<!here> sale" start:11-01 end:11-30 channels:<!channel>,JD theme:"<!everyone> theme"',
    "/campaign risk C-1 <!channel> stock-out",
    "/campaign doc C-1 https://example.com/plan <!channel> plan",
    "/campaign spend C-1 100 channel:<!channel>",
    "/campaign show C-1",
    "/campaign list",
    "/feedback <!channel> feedback #tag",
    "/feedback list",
    "/kpi log gmv 5 channel:<!here>",
    "/kpi show gmv by:channel",
    "/kpi define <!channel>rate = orders / visits",
    "/kpi list",
    "/kpi show <!channel>rate",
]


def test_no_reply_carries_a_special_mention_typed_into_a_record(bot: Bot) -> None:
    """Titles, names, reasons, notes, risks, channels and metric names typed with @channel/@here are data:
    no reply (fallback text or mrkdwn, ephemeral or not) may turn them into a real <!channel>."""
    leaks: list[str] = []
    for line in MENTION_SCRIPT:
        said = bot.say(ANA, line)
        assert said.status == 200 and ":warning:" not in said, f"{line}: {said}"
        for text in texts(said.body, plain_text=False):
            if SPECIAL_MENTION.search(text):
                where = "IN CHANNEL" if said.in_channel else "ephemeral"
                leaks.append(f"{line}\n      -> ({where}) {text[:200]!r}")
    assert not leaks, "replies that would ping:\n" + "\n".join(leaks)


# ---- request signing -----------------------------------------------------------------------------


def _signature_cases(bot: Bot, body: bytes) -> dict[str, dict[str, str]]:
    now = int(time.time())
    good = signed_headers(bot.slack.signing_secret, body)
    return {
        "forged": signed_headers("not-the-signing-secret", body),
        "tampered": {**good, "X-Slack-Signature": good["X-Slack-Signature"][:-4] + "0000"},
        "stale": signed_headers(bot.slack.signing_secret, body, timestamp=str(now - 6 * 60)),
        "future": signed_headers(bot.slack.signing_secret, body, timestamp=str(now + 6 * 60)),
        "no-headers": {},
        "no-signature": {"X-Slack-Request-Timestamp": good["X-Slack-Request-Timestamp"]},
        "no-timestamp": {"X-Slack-Signature": good["X-Slack-Signature"]},
        "bad-timestamp": {**good, "X-Slack-Request-Timestamp": "yesterday"},
    }


@pytest.mark.parametrize(
    "case",
    ["forged", "tampered", "stale", "future", "no-headers", "no-signature", "no-timestamp", "bad-timestamp"],
)
def test_unsigned_or_stale_requests_are_refused(module_bot: Bot, case: str) -> None:
    team = "TSIGNING"
    body = module_bot.command_body("/task", "add Forged task due:fri", team_id=team)
    headers = _signature_cases(module_bot, body)[case]
    before = module_bot.row_counts(team)
    status, answer = module_bot.post_raw(body, headers)
    assert status == 401, f"{case}: HTTP {status} {answer[:300]}"
    assert "Forged task" not in answer
    assert module_bot.row_counts(team) == before


def test_a_correctly_signed_request_is_accepted(module_bot: Bot) -> None:
    """The control for the cases above: the same body, signed now with the right secret, is processed."""
    team = "TSIGNED0K"
    body = module_bot.command_body("/task", "add Signed task", team_id=team)
    status, answer = module_bot.post_raw(body, signed_headers(module_bot.slack.signing_secret, body))
    assert status == 200 and "T-1" in answer and "Signed task" in answer, answer[:300]
    assert module_bot.rows("SELECT title FROM tasks WHERE workspace_id = :t", t=team) == [("Signed task",)]


MALFORMED = {
    "garbage": (b"garbage &&= %%% ===", "application/x-www-form-urlencoded"),
    "bad-form": (b"a=%zz&&=b=c", "application/x-www-form-urlencoded"),
    "bad-payload-json": (b"payload=%7Bnot-json", "application/x-www-form-urlencoded"),
    "bad-json": (b"{not json", "application/json"),
    "wrong-content-type": (b"<xml/>", "text/xml"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_bodies_are_refused_unsigned_401_and_signed_400(module_bot: Bot, case: str) -> None:
    body, content_type = MALFORMED[case]
    status, answer = module_bot.post_raw(body, {"Content-Type": content_type})
    assert status == 401 and "Traceback" not in answer, f"{case}: HTTP {status} {answer[:300]}"
    signed = {**signed_headers(module_bot.slack.signing_secret, body), "Content-Type": content_type}
    status, answer = module_bot.post_raw(body, signed)
    assert status == 400 and "Traceback" not in answer, f"{case}: HTTP {status} {answer[:300]}"


def test_a_body_over_the_size_cap_is_refused_413(module_bot: Bot) -> None:
    team = "THUGEBODY"
    body = module_bot.command_body("/task", "add " + "x" * 1_100_000, team_id=team)
    status, _answer = module_bot.post_raw(body, signed_headers(module_bot.slack.signing_secret, body))
    assert status == 413
    assert module_bot.rows("SELECT title FROM tasks WHERE workspace_id = :t", t=team) == []


def test_a_body_that_is_not_utf8_is_refused_401(module_bot: Bot) -> None:
    body = b"\xff\xfe\x00command=%2Ftask&text=add+x"
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64}
    status, answer = module_bot.post_raw(body, headers)
    assert status == 401 and "Traceback" not in answer, f"HTTP {status} {answer[:300]}"


@pytest.mark.parametrize("command", ["/task", "/feedback", "/kpi", "/campaign", "/goal", "/retro", "/mkt"])
def test_command_text_over_the_cap_gets_a_private_reply_and_writes_nothing(module_bot: Bot, command: str) -> None:
    team = "TLONGTEXT" + command.strip("/").upper()
    body = module_bot.command_body(command, "add " + "长" * 5_000, team_id=team)
    status, answer = module_bot.post_raw(body, signed_headers(module_bot.slack.signing_secret, body))
    assert status == 200 and "5,004 characters" in answer and "4,000" in answer and "ephemeral" in answer, answer[:300]
    for table in ("tasks", "feedback", "campaigns", "goals"):
        assert module_bot.rows(f"SELECT 1 FROM {table} WHERE workspace_id = :t", t=team) == []


@pytest.mark.parametrize("line, table", [
    ("/task add {long}", "tasks"),
    ('/goal add "{long}" metric:gmv target:100 by:eoq', "goals"),
    ("/campaign add {long} start:11-01 end:11-30", "campaigns"),
    ("/kpi define {short} = orders / visits", "metrics"),
])
def test_a_title_over_the_limit_is_refused_privately_and_writes_nothing(bot: Bot, line: str, table: str) -> None:
    said = bot.say(ANA, line.format(long="长" * 501, short="m" * 101))
    assert said.status == 200 and said.ephemeral, said
    assert "Nothing was saved" in str(said.body) and ("500" in str(said.body) or "100" in str(said.body)), said
    assert bot.rows(f"SELECT 1 FROM {table} WHERE workspace_id = :t", t=bot.team_id) == []
    assert bot.say(ANA, line.format(long="长" * 500, short="m" * 100)).status == 200
    made = 3 if table == "metrics" else 1  # a ratio also defines its two parts
    assert len(bot.rows(f"SELECT 1 FROM {table} WHERE workspace_id = :t", t=bot.team_id)) == made, "the limit is allowed"
