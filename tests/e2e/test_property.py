"""Whatever is typed after a command, the bot acks in time with a reply that says something, and never crashes."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.harness import ANA, BO, LILEI, Bot, as_json

VERBS: dict[str, list[str]] = {
    "/task": ["", "add", "new", "list", "ls", "start", "done", "reopen", "block", "assign", "due", "help"],
    "/goal": ["", "add", "list", "show", "close", "checkin", "check-in", "help"],
    "/kpi": ["", "log", "define", "show", "list", "help"],
    "/campaign": ["", "add", "list", "show", "close", "spend", "risk", "doc", "help"],
    "/feedback": ["", "list", "help"],
    "/mkt": [
        "",
        "help",
        "schedule",
        "schedule digest",
        "schedule report weekly",
        "unschedule",
        "schedule list",
    ],
}
#: typed with nothing after them, these open a modal (an empty ack) instead of answering in text
MODAL_COMMANDS = {"/task", "/goal", "/campaign", "/feedback"}

# What people (and Slack's escaping) put in command text.
FRAGMENTS = [
    '"', "“", "”", "「", "」", "'", "`", "\\", ":", "：", "=", "/", "..", "#", "＃", ",", "，",
    "<@U0ANA|ana>", "<@U0BO>", "<@W999|ghost>", "<#C0GENERAL|general>", "<!channel>", "<!here>",
    "<https://example.com|link>", "&lt;", "&gt;", "&amp;", "&lt;@U0ANA&gt;", "@ana", "@李雷", "@nobody", "＠bo",
    "T-1", "t1", "G-1", "C-1", "F-1", "K-1", "S-1", "R-1", "99999999999", "0", "-1",
    "due:", "due:fri", "due:明天", "start:+3d", "by:eoq", "by:2026-02-30", "metric:gmv", "target:15%",
    "target:¥2.5m", "budget:$1,200", "budget:1.2m", "channel:天猫", "channels:天猫,JD", "period:30d",
    "period:2026-11-01..2026-11-30", "by:channel", "campaign:C-1", "goal:G-1", "from:customer", "owner:@bo",
    "confidence:7", "tz:Asia/Shanghai", "days:mon-fri", "09:30", "下午3点半", "agg:avg", "better:down",
    "= orders / visits", "#tag", "#话题#", "天猫", "双十一 预售", "转化率", "12,500", "¥12,500", "3万", "1.5亿",
    "\n", "\t", "\u3000", " ", "🎉", "\u200b", "\u202e", "x" * 300,
]  # fmt: skip

texts = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=8).map(" ".join),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=10).map("".join),
)


@st.composite
def command_lines(draw: st.DrawFn) -> tuple[str, str, str]:
    command = draw(st.sampled_from(sorted(VERBS)))
    verb = draw(st.sampled_from(VERBS[command]))
    text = draw(texts)
    user = draw(st.sampled_from([ANA, BO, LILEI]))
    return user, command, f"{verb} {text}" if verb else text


#: 150 keeps the suite fast; set MKTBOT_E2E_EXAMPLES=2000 for a deeper search.
EXAMPLES = int(os.environ.get("MKTBOT_E2E_EXAMPLES", "150"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # keep Hypothesis' example database out of the repository
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(line=command_lines())
def test_any_text_gets_a_reply_and_never_a_crash(module_bot: Bot, line: tuple[str, str, str]) -> None:
    user, command, text = line
    said = module_bot.say(user, f"{command} {text}")
    context = f"{command} {text!r} by {user}: HTTP {said.status} {as_json(said.body)}"
    assert said.status == 200, context
    assert not said.late, f"acked after Slack's 3 s: {context}"
    if command in MODAL_COMMANDS and not text.strip():
        return  # an empty ack; the lazy half opens the modal
    assert isinstance(said.body, dict) and isinstance(said.body.get("text"), str), context
    assert said.body["text"].strip(), f"a reply without text: {context}"
    assert "Something went wrong on our side" not in said, f"the handler crashed: {context}"
