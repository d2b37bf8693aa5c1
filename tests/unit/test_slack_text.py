"""Slack text, one rule: Slack's entities are undone where text comes in, and escaped exactly once going out.

Slack delivers `R&D <again>` typed in a message (or a slash command) as `R&amp;D &lt;again&gt;`; its own
markup (<@U1>, <#C1|x>, <https://…|label>, <!here>) arrives as is.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.localslack.mrkdwn import rich_text_elements, slack_escape
from bot.render.retro import goal_line, kpi_line, parent_post, summary_post
from bot.services.retros import (
    RetroCard,
    RetroGoal,
    RetroKpi,
    RetroResults,
    SummaryNote,
    SummaryTask,
    action_title,
    classify,
)
from bot.slack_text import esc, esc_keep_mentions, slack_unescape
from tests.support.text import texts

TODAY = date(2026, 11, 23)


# ---- in: slack_unescape ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "typed"),
    [
        ("went well: 直播带货 &amp; R&amp;D helped", "went well: 直播带货 & R&D helped"),
        ("didn't: the banner was late &lt;again&gt;", "didn't: the banner was late <again>"),
        ("P&amp;G", "P&G"),
        ("&amp;amp; typed literally", "&amp; typed literally"),  # the person typed "&amp;"
        ("<@U0BO> and <@U0ANA|ana>", "<@U0BO> and <@U0ANA|ana>"),
        ("<#C0GENERAL|general> <!here>", "<#C0GENERAL|general> <!here>"),
        # a link's URL and label keep Slack's escaping: the span is shown again as it came
        ("<https://x.y/?a=1&amp;b=2|R&amp;D doc> &amp;", "<https://x.y/?a=1&amp;b=2|R&amp;D doc> &"),
        ("", ""),
    ],
)
def test_slack_unescape_decodes_entities_outside_markup(wire: str, typed: str) -> None:
    assert slack_unescape(wire) == typed


def test_slack_unescape_of_nothing() -> None:
    assert slack_unescape(None) == ""


# ---- out: esc_keep_mentions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("直播带货 & R&D helped", "直播带货 &amp; R&amp;D helped"),
        ("the banner was late <again>", "the banner was late &lt;again&gt;"),
        ("thanks <@U0BO> and <@U0ANA|ana>", "thanks <@U0BO> and <@U0ANA|ana>"),
        ("in <#C0GENERAL|general>", "in <#C0GENERAL|general>"),
        ("see <https://x.y/?a=1&amp;b=2|R&amp;D doc>", "see <https://x.y/?a=1&amp;b=2|R&amp;D doc>"),
        # special mentions never ping from the bot's post
        ("<!channel> <!here> <!everyone> <!subteam^S1|@team>",
         "&lt;!channel&gt; &lt;!here&gt; &lt;!everyone&gt; &lt;!subteam^S1|@team&gt;"),
        ("a <b> c", "a &lt;b&gt; c"),
        ("<@nobody>", "&lt;@nobody&gt;"),
    ],
)
def test_esc_keep_mentions_escapes_once_and_keeps_people_and_links_live(stored: str, shown: str) -> None:
    assert esc_keep_mentions(stored) == shown


def test_esc_still_shows_everything_literally() -> None:
    assert esc("<@U0BO> & <!channel>") == "&lt;@U0BO&gt; &amp; &lt;!channel&gt;"
    assert esc_keep_mentions(None) == "" and esc(None) == ""


@pytest.mark.parametrize(
    "typed",
    [
        "went well: 直播带货 & R&D helped",
        "didn't: the banner was late <again>",
        "action: <@U0ANA> <@U0BO> write the brief for P&G due:fri",
        "see <https://x.y|the doc> in <#C0GENERAL|general>, <!here>",
        "&amp; &lt; &gt; typed as text",
        "a < b > c && d",
    ],
)
def test_round_trip_through_the_local_slack(typed: str) -> None:
    """What the person typed → Slack's wire text (local Slack) → stored (slack_unescape) is what they typed."""
    wire = slack_escape(typed)
    assert "&" not in wire.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
    assert slack_unescape(wire) == typed


def test_local_slack_escapes_like_slack() -> None:
    assert slack_escape("R&D <again> <@U0BO> <https://x.y?a=1&b=2|P&G>") == (
        "R&amp;D &lt;again&gt; <@U0BO> <https://x.y?a=1&b=2|P&G>"
    )
    assert slack_escape("<b>bold</b> <again|x>") == "&lt;b&gt;bold&lt;/b&gt; &lt;again|x&gt;"


def test_local_slack_rich_text_block_mirrors_the_text() -> None:
    wire = slack_escape("R&D <again> <@U0BO> in <#C0GENERAL|general> <!here> <https://x.y/?a=1&amp;b=2|P&amp;G>")
    assert rich_text_elements(wire) == [
        {"type": "text", "text": "R&D <again> "},
        {"type": "user", "user_id": "U0BO"},
        {"type": "text", "text": " in "},
        {"type": "channel", "channel_id": "C0GENERAL"},
        {"type": "text", "text": " "},
        {"type": "broadcast", "range": "here"},
        {"type": "text", "text": " "},
        {"type": "link", "url": "https://x.y/?a=1&b=2", "text": "P&G"},
    ]


# ---- retro lines ------------------------------------------------------------------------------------------


def test_classify_reads_decoded_text() -> None:
    note = classify(slack_unescape("went well: 直播带货 &amp; R&amp;D helped"))
    assert note is not None and (note.category, note.text) == ("well", "直播带货 & R&D helped")
    action = classify("action: <@U0ANA> <@U0BO> write the brief")
    assert action is not None and action.owner_id == "U0ANA"


@pytest.mark.parametrize(
    ("text", "owner", "title"),
    [
        ("<@U0ANA> <@U0BO> write the brief", "U0ANA", "<@U0BO> write the brief"),
        ("<@U0BO> rewrite the coupon copy", "U0BO", "rewrite the coupon copy"),
        ("write the brief with <@U0BO|bo> and <@U0LILEI>", "U0BO", "write the brief with and <@U0LILEI>"),
        ("R&D <again> for <@U0BO>", "U0BO", "R&D <again> for"),
        ("nobody named", None, "nobody named"),
    ],
)
def test_action_title_keeps_the_other_mentions(text: str, owner: str | None, title: str) -> None:
    assert action_title(text, owner_id=owner) == title


# ---- retro posts ------------------------------------------------------------------------------------------


def _retro() -> RetroCard:
    return RetroCard(number=1, title="C-1 双十一 预售", period_start=date(2026, 11, 1), period_end=date(2026, 11, 11))


def _note(category: str, text: str, user: str = "U0ANA") -> SummaryNote:
    return SummaryNote(category=category, text=text, user_id=user)


def test_summary_shows_text_as_typed_with_live_mentions() -> None:
    notes = [
        _note("well", slack_unescape("直播带货 &amp; R&amp;D helped, thanks <@U0BO>")),
        _note("not", slack_unescape("the banner was late &lt;again&gt; <!channel>"), user="U0BO"),
        _note("try", slack_unescape("read <https://x.y/?a=1&amp;b=2|P&amp;G brief>")),
    ]
    tasks = [SummaryTask(number=1, title="<@U0BO> write the brief for P&G", owner_id="U0ANA", due_on=date(2026, 11, 27))]
    reply = summary_post(_retro(), notes, tasks, today=TODAY)
    text = "\n".join(texts(reply.blocks))
    assert "• 直播带货 &amp; R&amp;D helped, thanks <@U0BO> — <@U0ANA>" in text
    assert "• the banner was late &lt;again&gt; &lt;!channel&gt; — <@U0BO>" in text
    assert "• read <https://x.y/?a=1&amp;b=2|P&amp;G brief> — <@U0ANA>" in text
    assert "• *T-1* <@U0BO> write the brief for P&amp;G · owner <@U0ANA> · due Nov 27" in text
    assert "&amp;amp;" not in text and "&amp;lt;" not in text and "<!channel>" not in text


def kpi(name: str, value: Decimal | None, previous: Decimal | None, unit: str | None = None, better: str = "up", *,
        days: int = 7, period_days: int = 7, why_not: str | None = None) -> RetroKpi:
    return RetroKpi(name, value, previous, unit, better, days, period_days, why_not)


def test_parent_post_without_comparisons_has_no_empty_parentheses() -> None:
    data = RetroResults(
        goals=[RetroGoal("G-3", "新客 10k", None, Decimal(10_000), None, None, None),
               RetroGoal("G-4", "GMV", Decimal(4200), Decimal(10_000), None, "at risk", Decimal("0.42"))],
        kpis=[kpi("orders", Decimal(468), None), kpi("orders_b", Decimal(468), Decimal(0)),
              kpi("gmv", Decimal(110), Decimal(100)), kpi("cac", Decimal(110), Decimal(100), better="down"),
              kpi("flat", Decimal(100), Decimal(100))],
    )
    text = "\n".join(texts(parent_post(_retro(), data, today=TODAY).blocks))
    assert "• *G-3* 新客 10k: — of 10,000\n" in text
    assert "• *G-4* GMV: 4,200 of 10,000 (42%) · at risk" in text
    assert "• orders: 468\n" in text and "• orders_b: 468\n" in text
    assert "• gmv: 110 (+10% vs the 7 days before :arrow_upper_right:)" in text
    assert "• cac: 110 (+10% vs the 7 days before :arrow_upper_right: :warning:)" in text
    assert "• flat: 100 (0% vs the 7 days before)" in text
    assert "(—)" not in text and "( " not in text and " )" not in text


@pytest.mark.parametrize(
    ("row", "line"),
    [
        (kpi("orders", Decimal(468), None), "• orders: 468"),
        (kpi("orders", None, Decimal(3)), "• orders: —"),
        (kpi("gmv", Decimal(90), Decimal(100), "¥"), "• gmv: ¥90 (-10% vs the 7 days before :arrow_lower_right: :warning:)"),
        (kpi("cac", Decimal(90), Decimal(100), "¥", "down"), "• cac: ¥90 (-10% vs the 7 days before :arrow_lower_right:)"),
        (kpi("a&b", Decimal(1), None), "• a&amp;b: 1"),
        (kpi("gmv", Decimal(50), Decimal(40), days=5, period_days=28),
         "• gmv: 50 (first 5 of 28 days, +25% vs the 5 days before :arrow_upper_right:)"),
        (kpi("gmv", Decimal(50), None, days=5, period_days=28, why_not="thin"),
         "• gmv: 50 (first 5 of 28 days, too little data before to compare)"),
        (kpi("gmv", None, None, days=0, period_days=28, why_not="none"), "• gmv: — (no day of this period is over yet)"),
    ],
)
def test_kpi_line(row: RetroKpi, line: str) -> None:
    assert kpi_line(row) == line


def test_goal_line() -> None:
    assert goal_line(RetroGoal("G-3", "新客 10k", None, Decimal(10_000), None, None, None)) == "• *G-3* 新客 10k: — of 10,000"
    line = goal_line(RetroGoal("G-1", "P&G", Decimal(1), Decimal(4), None, "on track", Decimal("0.25")))
    assert line == "• *G-1* P&amp;G: 1 of 4 (25%) · on track"
    lift = goal_line(RetroGoal("G-2", "CTR", Decimal("0.03"), Decimal("0.04"), "%", "on track", Decimal("0.5")))
    assert "(50%)" in lift, "a lift's % of target, not current ÷ target"


def test_the_retro_parent_fallback_text_escapes_a_typed_campaign_name() -> None:
    retro = RetroCard(number=2, title="<!channel> 双十一", period_start=date(2026, 11, 1), period_end=date(2026, 11, 11))
    reply = parent_post(retro, RetroResults(goals=[], kpis=[]), today=TODAY)
    assert "<!channel>" not in (reply.text or "") and "&lt;!channel&gt; 双十一" in (reply.text or "")
    assert "<!channel>" not in "\n".join(texts(reply.blocks[1:]))  # the header is plain_text: shown as typed, never a mention


def test_a_link_never_carries_markup_inside_its_url() -> None:
    from bot.slack_text import link

    assert link("https://x.example/a?b=1&amp;c=2", "plan") == "<https://x.example/a?b=1&amp;c=2|plan>"
    for hostile in ("https://x.example/<!channel>", "https://x.example/a|<!here>", "https://x.example/&lt;!channel&gt;"):
        shown = link(hostile, "plan")
        assert "<!" not in shown and not shown.startswith("<http"), shown
