"""A retrospective end to end: started by command, replies in its thread, a retried event, closed into tasks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from bot.localslack import Message
from storage.db import Database
from tests.conftest import Clock
from tests.support.harness import ANA, BO, GENERAL, NOW, Bot, new_team_id, running_bot


@pytest.fixture
def stack(db: Database, clock: Clock) -> Iterator[Bot]:
    clock.set(NOW)
    with running_bot(db, clock=clock, team_id=new_team_id()) as running:
        yield running


def wait_for_bot_post(bot: Bot, contains: str, *, thread_ts: str | None = None, timeout: float = 10) -> Message:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in bot.slack.channel_messages(GENERAL, thread_ts=thread_ts):
            if m.is_bot and m.source == "chat.postMessage" and contains in m.all_text():
                return m
        time.sleep(0.05)
    raise AssertionError(f"no bot post containing {contains!r}:\n{bot.slack.dump(limit=10)}")


def started_retro(bot: Bot) -> str:
    """`/retro start` for last month: the thread's ts, once the retro row knows it."""
    bot.say(ANA, "/retro start period:month")
    parent = wait_for_bot_post(bot, "Retrospective R-1")
    deadline = time.monotonic() + 5
    while not bot.rows("SELECT thread_ts FROM retros WHERE workspace_id = :w", w=bot.team_id)[0][0]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return parent.ts


def test_retro_in_a_thread(stack: Bot) -> None:
    bot = stack
    bot.say(ANA, '/campaign add "双十一 预售" start:11-01 end:11-11 channels:天猫 budget:¥200k')
    bot.say(ANA, "/kpi log gmv ¥250k channel:天猫 date:11-05")
    bot.say(ANA, "/campaign spend C-1 ¥50k channel:天猫 date:11-03")
    said = bot.say(ANA, "/retro start campaign:C-1")
    assert "R-1" in said and said.ephemeral

    parent = wait_for_bot_post(bot, "Retrospective R-1")
    text = parent.all_text()
    assert "双十一 预售" in text and "What went well?" in text and "ROI" in text

    # the thread parent's ts is stored once delivery confirms it
    deadline = time.monotonic() + 5
    while not bot.rows("SELECT thread_ts FROM retros WHERE workspace_id = :w", w=bot.team_id)[0][0]:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    bot.slack.post_user_message(GENERAL, ANA, "went well: 直播带货 drove 40% of GMV\ndidn't: coupon rules confused people", thread_ts=parent.ts)
    reply = bot.slack.post_user_message(GENERAL, BO, f"action: <@{BO}> rewrite the coupon copy due:fri", thread_ts=parent.ts)
    bot.slack.post_user_message(GENERAL, ANA, "unrelated chatter outside the thread")
    # Slack retries an event it thinks was not acknowledged: same ts, nothing recorded twice
    event = {
        "type": "message", "channel": GENERAL, "user": BO, "text": reply.text, "ts": reply.ts,
        "thread_ts": parent.ts, "team": bot.team_id, "channel_type": "channel", "event_ts": reply.ts,
    }
    retried = bot.slack.send_event(event, retry_num=1)
    assert retried.status == 200
    notes = bot.rows("SELECT category, text FROM retro_notes WHERE workspace_id = :w ORDER BY id", w=bot.team_id)
    assert [c for c, _ in notes] == ["well", "not", "action"]
    assert notes[0][1] == "直播带货 drove 40% of GMV"

    closed = bot.say(ANA, "/retro close R-1")
    assert "1 task created" in closed and "T-1" in closed and f"<@{BO}>" in closed
    task = bot.rows("SELECT title, owner_id, due_on, retro_id FROM tasks WHERE workspace_id = :w", w=bot.team_id)
    assert task[0][0] == "rewrite the coupon copy" and task[0][1] == BO and str(task[0][2]) == "2026-11-27"

    summary = wait_for_bot_post(bot, "R-1 closed", thread_ts=parent.ts)
    assert "Went well" in summary.all_text() and "T-1" in summary.all_text()
    again = bot.say(ANA, "/retro close R-1")
    assert "already closed" in again
    assert len(bot.rows("SELECT id FROM tasks WHERE workspace_id = :w", w=bot.team_id)) == 1


def test_retro_bad_input(stack: Bot) -> None:
    bot = stack
    before = bot.row_counts()
    for line, problem in [
        ("/retro start campaign:C-9", "C-9"),
        ("/retro start period:year", "period"),
        ("/retro start campaign:C-1 period:month", "Pick one"),
        ("/retro close", "which retro"),
        ("/retro close R-7", "R-7"),
        ("/retro close G-1", "goal"),
        ("/retro frobnicate", "frobnicate"),
    ]:
        said = bot.say(ANA, line)
        assert said.status == 200 and said.ephemeral and problem in said, (line, said)
    assert bot.row_counts() == before


def _wait_for_thread(bot: Bot) -> None:
    deadline = time.monotonic() + 5
    while not bot.rows("SELECT thread_ts FROM retros WHERE workspace_id = :w", w=bot.team_id)[0][0]:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _last_event_text(bot: Bot) -> str:
    event = json.loads([d for d in bot.slack.deliveries if d.kind == "event"][-1].body)["event"]
    return str(event["text"])


def test_retro_text_arrives_escaped_and_is_shown_as_typed(stack: Bot) -> None:
    """Slack escapes & < > in message text; notes, tasks and the summary show what people typed, escaped once."""
    bot = stack
    said = bot.say(ANA, "/retro start period:month")
    assert "R-1" in said
    parent = wait_for_bot_post(bot, "Retrospective R-1")
    assert "(—" not in parent.all_text() and "( " not in parent.all_text()
    _wait_for_thread(bot)

    # typed by people; the local Slack delivers it escaped, as Slack does
    bot.slack.post_user_message(
        GENERAL, ANA, "went well: 直播带货 & R&D helped\ndidn't: the banner was late <again>", thread_ts=parent.ts
    )
    assert _last_event_text(bot) == "went well: 直播带货 &amp; R&amp;D helped\ndidn't: the banner was late &lt;again&gt;"
    # Slack's wire form sent as is: a link, a special mention, a typed "&lt;b&gt;" and a typed "&amp;"
    wire = "try: ask P&amp;G about &lt;b&gt; tags, &amp;amp; see <https://x.y/?a=1&amp;b=2|the R&amp;D doc> <!here>"
    bot.slack.post_user_message(GENERAL, BO, wire, thread_ts=parent.ts, escaped=True)
    assert _last_event_text(bot) == wire
    bot.slack.post_user_message(
        GENERAL, BO, f"action: <@{ANA}> <@{BO}> write the brief for P&G due:fri\naction: <@{BO}> fix <again> tags",
        thread_ts=parent.ts,
    )

    notes = bot.rows("SELECT category, text, owner_id FROM retro_notes WHERE workspace_id = :w ORDER BY id", w=bot.team_id)
    assert notes == [
        ("well", "直播带货 & R&D helped", None),
        ("not", "the banner was late <again>", None),
        ("try", "ask P&G about <b> tags, &amp; see <https://x.y/?a=1&amp;b=2|the R&amp;D doc> <!here>", None),
        ("action", f"<@{ANA}> <@{BO}> write the brief for P&G due:fri", ANA),
        ("action", f"<@{BO}> fix <again> tags", BO),
    ]

    closed = bot.say(ANA, "/retro close R-1")
    assert "2 tasks created" in closed, closed
    assert f"*T-1* <@{BO}> write the brief for P&amp;G · owner <@{ANA}>" in closed, closed
    assert "*T-2* fix &lt;again&gt; tags · owner <@U0BO>" in closed, closed
    tasks = bot.rows("SELECT number, title, owner_id, due_on FROM tasks WHERE workspace_id = :w ORDER BY number", w=bot.team_id)
    assert [(n, title, owner) for n, title, owner, _ in tasks] == [
        (1, f"<@{BO}> write the brief for P&G", ANA),
        (2, "fix <again> tags", BO),
    ]
    assert str(tasks[0][3]) == "2026-11-27"

    summary = wait_for_bot_post(bot, "R-1 closed", thread_ts=parent.ts).all_text()
    assert f"• 直播带货 &amp; R&amp;D helped — <@{ANA}>" in summary, summary
    assert f"• the banner was late &lt;again&gt; — <@{ANA}>" in summary, summary
    assert (
        f"• ask P&amp;G about &lt;b&gt; tags, &amp;amp; see <https://x.y/?a=1&amp;b=2|the R&amp;D doc> &lt;!here&gt; — <@{BO}>"
        in summary
    ), summary
    assert f"• *T-1* <@{BO}> write the brief for P&amp;G · owner <@{ANA}> · due Nov 27" in summary, summary
    assert f"• *T-2* fix &lt;again&gt; tags · owner <@{BO}>" in summary, summary
    assert "&amp;amp;D" not in summary and "&amp;lt;" not in summary and "<!here>" not in summary

    listing = bot.say(ANA, "/task list all")
    assert "write the brief for P&amp;G" in listing and "fix &lt;again&gt; tags" in listing, listing
    assert "&amp;amp;" not in listing and "&amp;lt;" not in listing, listing


def test_an_edited_reply_replaces_its_notes_and_a_deleted_one_is_forgotten(stack: Bot) -> None:
    bot = stack
    parent_ts = started_retro(bot)
    parent = wait_for_bot_post(bot, "Retrospective R-1")
    typo = bot.slack.post_user_message(GENERAL, BO, "actoin: fix the banner", thread_ts=parent_ts)  # not a note yet
    wrong = bot.slack.post_user_message(GENERAL, ANA, "went well: the wrong thread", thread_ts=parent_ts)
    kept = bot.slack.post_user_message(GENERAL, ANA, "went well: 直播带货", thread_ts=parent_ts)

    def changed(original: Message, text: str) -> dict[str, object]:
        return {
            "type": "message", "subtype": "message_changed", "hidden": True, "channel": GENERAL, "team": bot.team_id,
            "ts": f"{float(original.ts) + 5:.6f}", "event_ts": f"{float(original.ts) + 5:.6f}", "channel_type": "channel",
            "message": {"type": "message", "user": original.user, "text": text, "ts": original.ts, "thread_ts": parent_ts,
                        "team": bot.team_id, "edited": {"user": original.user, "ts": f"{float(original.ts) + 5:.6f}"}},
            "previous_message": {"type": "message", "user": original.user, "text": original.text, "ts": original.ts,
                                 "thread_ts": parent_ts},
        }

    edit = changed(typo, f"action: &lt;urgent&gt; fix the banner <@{BO}> due:fri")
    assert bot.slack.send_event(edit).status == 200
    assert bot.slack.send_event(edit, retry_num=1).status == 200  # a retried edit changes nothing more
    deleted = {
        "type": "message", "subtype": "message_deleted", "hidden": True, "channel": GENERAL, "team": bot.team_id,
        "ts": f"{float(wrong.ts) + 6:.6f}", "deleted_ts": wrong.ts, "event_ts": f"{float(wrong.ts) + 6:.6f}",
        "channel_type": "channel",
        "previous_message": {"type": "message", "user": ANA, "text": wrong.text, "ts": wrong.ts, "thread_ts": parent_ts},
    }
    assert bot.slack.send_event(deleted).status == 200
    # the parent itself is edited by Slack as replies arrive: never a note
    assert bot.slack.send_event(changed(parent, "went well: not a reply")).status == 200
    notes = bot.rows("SELECT category, text, owner_id FROM retro_notes WHERE workspace_id = :w ORDER BY message_ts", w=bot.team_id)
    assert notes == [("action", f"<urgent> fix the banner <@{BO}> due:fri", BO), ("well", "直播带货", None)], notes
    assert kept.ts

    closed = bot.say(ANA, "/retro close R-1")
    assert "1 task created" in closed, closed
    assert bot.rows("SELECT title, owner_id FROM tasks WHERE workspace_id = :w", w=bot.team_id) == [
        ("<urgent> fix the banner", BO)]
    # after the close, an edit changes nothing: the retro keeps what it was closed with
    assert bot.slack.send_event(changed(kept, "didn't: rewritten later")).status == 200
    assert ("well", "直播带货", None) in bot.rows(
        "SELECT category, text, owner_id FROM retro_notes WHERE workspace_id = :w", w=bot.team_id)


def test_a_reply_past_the_caps_keeps_the_first_items_and_tells_its_author(stack: Bot) -> None:
    bot = stack
    thread = started_retro(bot)
    lines = [f"action: item {i}" for i in range(1, 26)] + [f"went well: {i}" for i in range(40)]
    bot.slack.post_user_message(GENERAL, ANA, "\n".join(lines), thread_ts=thread)
    told = bot.slack.wait_for_message(where=lambda m: m.ephemeral_user == ANA and "not recorded" in m.all_text())
    assert "R-1" in told.all_text() and "15 line(s)" in told.all_text() and told.thread_ts == thread
    notes = bot.rows("SELECT category, text FROM retro_notes WHERE workspace_id = :w ORDER BY line", w=bot.team_id)
    assert [t for c, t in notes if c == "action"] == [f"item {i}" for i in range(1, 21)]
    assert len(notes) == 50
    bot.slack.post_user_message(GENERAL, BO, "action: one more", thread_ts=thread)
    time.sleep(0.5)
    assert not [m for m in bot.slack.messages if m.ephemeral_user == BO], "a reply within the caps is not warned"
