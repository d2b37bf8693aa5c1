"""digest_reply on hand-built DigestData: sections, the most urgent tasks with their buttons, Slack's limits with large
data (also after clicks), escaping, empty days, CJK."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from slack_sdk.models.blocks import Block, HeaderBlock, SectionBlock

from bot.ids import ActionId, BlockId, record_block, split_record_block
from bot.render import views
from bot.render.digest import LIMITS, PACKED_BLOCKS, URGENT_BLOCKS, URGENT_TASKS, digest_reply
from bot.render.reply import MAX_BLOCKS, Reply
from bot.services.digest import (
    DigestCampaign,
    DigestData,
    DigestGoal,
    DigestRetro,
    DigestTask,
    KpiChange,
    OwnerTasks,
)
from bot.services.goals import AT_RISK, OFF_TRACK, ON_TRACK, Progress
from bot.services.tasks import TaskCard
from storage.models import Task
from tests.support.text import texts

D = Decimal
TODAY = date(2026, 11, 23)
ANA, BO = "U0ANA", "U0BO"


def task(number: int, title: str = "Banner", *, owner: str | None = ANA, due: date | None = TODAY, status: str = "todo",
         reason: str | None = None, campaign: int | None = None, goal: int | None = None) -> DigestTask:
    return DigestTask(number=number, title=title, owner_id=owner, status=status, due_on=due, block_reason=reason,
                      campaign_number=campaign, goal_number=goal)


def goal(number: int, title: str = "Q4 GMV", *, status: str | None = ON_TRACK, current: str | None = "80000",
         unit: str | None = "¥", target: str = "100000", metric: str = "gmv") -> DigestGoal:
    progress = Progress(
        current=D(current) if current is not None else None,
        source="kpi" if current is not None else "none",
        percent_of_target=D(current) / D(target) if current is not None else None,
        percent_of_time=D("0.77"),
        status=status,
        projected=D(current) / 23 * 30 if current is not None else None,
        needed_per_day=(D(target) - D(current)) / 7 if current is not None else None,
        confidence=None,
    )
    return DigestGoal(number=number, title=title, owner_id=BO, metric_name=metric, unit=unit, target=D(target),
                      baseline=None, start_on=date(2026, 11, 1), due_on=date(2026, 11, 30), channel=None, progress=progress)


def kpi(number: int, name: str = "visits", *, now: str = "12000", trailing: str | None = "10000", unit: str | None = None,
        better: str = "up", verdict: str = "good", days: int = 7, is_ratio: bool = False) -> KpiChange:
    t = D(trailing) if trailing is not None else None
    change = (D(now) - t) / abs(t) if t else None
    return KpiChange(number=number, name=name, unit=unit, better=better, is_ratio=is_ratio, yesterday=D(now), trailing=t,
                     trailing_days=days, change=change, verdict=verdict)


def campaign(number: int, name: str = "Black Friday", *, stage: str = "live", budget: str | None = "50000",
             spend: str = "20000", roi: str | None = "1.5", start: date = date(2026, 11, 20)) -> DigestCampaign:
    return DigestCampaign(number=number, name=name, stage=stage, start_on=start, end_on=date(2026, 11, 25),
                          channels=["天猫"], currency="¥", budget=D(budget) if budget else None, spend=D(spend), revenue=None,
                          roi=D(roi) if roi else None, open_tasks=2)


def retro(number: int, title: str = "November", notes: int = 3) -> DigestRetro:
    return DigestRetro(number=number, title=title, kind="month", period_start=date(2026, 11, 1),
                       period_end=date(2026, 11, 30), slack_channel_id="C0MKT", thread_ts="1763900000.000100", notes=notes)


def empty() -> DigestData:
    return DigestData(today=TODAY, owners=[], goals=[], kpis=[], campaigns=[], retros=[])


def full() -> DigestData:
    return DigestData(
        today=TODAY,
        owners=[
            OwnerTasks(BO, overdue=[task(3, "KOL brief", owner=BO, due=TODAY - timedelta(days=5), goal=1),
                                    task(5, "Stock check", owner=BO, due=TODAY - timedelta(days=2), status="blocked", reason="no data")],
                       blocked=[task(4, "Fix landing page", owner=BO, due=TODAY + timedelta(days=3), status="blocked", reason="IT")]),
            OwnerTasks(ANA, due_today=[task(1, "Banner for 双十一", campaign=2)]),
            OwnerTasks(None, due_today=[task(6, "Reply to reviews", owner=None)]),
        ],
        goals=[goal(2, "1m visits", status=OFF_TRACK, current="300000", unit=None, target="1000000", metric="visits"),
               goal(3, "3k orders", status=AT_RISK, current="2000", unit=None, target="3000", metric="orders"),
               goal(5, "Weibo followers", status=None, current=None, unit=None, target="50000", metric="weibo followers"),
               goal(1, "Q4 GMV 双十一")],
        kpis=[kpi(1, "visits"),
              kpi(2, "conversion", now="0.03", trailing="0.0178", unit="%", is_ratio=True),
              kpi(3, "CPA", now="9", trailing="12", unit="¥", better="down", verdict="good", days=2),
              kpi(4, "退货", now="15", trailing="10", better="down", verdict="bad"),
              kpi(5, "opens", now="100.5", trailing="100", verdict="flat"),
              kpi(6, "gmv", now="5000", trailing=None, unit="¥", verdict="new", days=0)],
        campaigns=[campaign(1, "Black Friday 黑五", stage="ending"), campaign(3, "双十二", stage="starting", spend="0", roi=None, start=date(2026, 11, 25)),
                   campaign(4, "Singles' week", stage="ended", budget=None, spend="0", roi=None)],
        retros=[retro(1, "十一月 retrospective"), retro(2, "Q3", notes=0)],
    )


def record_blocks(reply: Reply, prefix: BlockId) -> dict[str, dict]:
    """The blocks that belong to one task ("T-3" → block), in message order."""
    found = {}
    for block in reply.blocks:
        kind, ref = split_record_block(block.get("block_id"))
        if kind == prefix:
            found[ref] = block
    return found


def assert_within_limits(reply: Reply) -> None:
    assert 0 < len(reply.blocks) <= MAX_BLOCKS
    for raw in reply.blocks:
        block = Block.parse(raw)
        assert block is not None
        block.to_dict()  # slack_sdk validates lengths here and raises on a breach
        if isinstance(block, HeaderBlock):
            assert len(raw["text"]["text"]) <= 150
        if isinstance(block, SectionBlock):
            assert len(raw.get("text", {}).get("text", "")) <= 3000
            assert len(raw.get("fields", [])) <= 10 and all(len(f["text"]) <= 2000 for f in raw.get("fields", []))
    assert len(reply.text) <= 3900


def test_every_section_is_there() -> None:
    reply = digest_reply(full(), today=TODAY)
    assert_within_limits(reply)
    header, summary, *_ = reply.blocks
    assert header["type"] == "header" and header["text"]["text"] == "Daily digest · Monday, November 23"
    assert summary["type"] == "section"
    body = "\n".join(texts(reply.blocks))
    for title in ("Most urgent", "More tasks by owner", "Goals & pace", "KPIs yesterday", "Campaigns", "Open retrospectives"):
        assert title in body
    # the overdue and due-today tasks have their own lines; Bo's group keeps the blocked one that is not due yet
    assert f"*<@{BO}>* · 1 blocked\n:red_circle: *T-4* Fix landing page · due Thu Nov 26 · blocked: _IT_" in body
    assert f"*T-3* KOL brief · <@{BO}> · *5 days overdue* · G-1" in body
    assert "blocked: _no data_" in body
    assert "*T-6* Reply to reviews · _unassigned_ · due today" in body and "/task assign T-6" in body
    assert "`████████░░` 80% · ¥80,000 of ¥100,000" in body
    assert "projected ¥104,348 by Nov 30" in body and "needs ¥2,857/day" in body
    assert '`/kpi log "weibo followers" <value>`' in body  # no data yet: how to fix that
    assert "*visits* 12,000 ↑ +20% vs 10,000 avg" in body
    assert "*conversion* 3% ↑ +1.22 pp vs 1.78% avg" in body  # ratios in percentage points
    assert ":large_green_circle: *CPA* ¥9 ↓ -25% vs ¥12 avg over 2 logged days" in body  # lower is better
    assert ":red_circle: *退货* 15 ↑ +50% vs 10 avg" in body
    assert "*opens* 100.5 → +0.5% vs 100 avg" in body
    assert ":new: *gmv* ¥5,000 · nothing logged in the 7 days before" in body
    assert "*C-1* Black Friday 黑五 · ends Wed Nov 25 · ¥20,000 of ¥50,000 (40%) · ROI 150%" in body
    assert "*C-3* 双十二 · starts Wed Nov 25 · ¥0 of ¥50,000 (0%)" in body
    assert "/retro start campaign:C-4" in body
    assert "*R-1* 十一月 retrospective · Nov 1 – Nov 30 · 3 notes · reply in its thread in <#C0MKT>" in body
    assert "*R-2* Q3 · Nov 1 – Nov 30 · no notes yet" in body
    # goals keep the order collect() gave them: off track first
    assert body.index("G-2") < body.index("G-3") < body.index("G-5") < body.index("G-1*")


def test_summary_counts_blocked_tasks_wherever_they_are_listed() -> None:
    reply = digest_reply(full(), today=TODAY)
    summary = reply.blocks[1]["text"]["text"]
    assert summary == (
        "2 due today · 2 overdue · 2 blocked · 4 goals: 1 on track, 1 at risk, 1 off track, 1 without data"
        " · 1 campaign live · 2 open retros"
    )


def test_fallback_text_summarises_the_same() -> None:
    reply = digest_reply(full(), today=TODAY)
    first, *rest = reply.text.splitlines()
    assert first == "Daily digest · Monday, November 23: " + reply.blocks[1]["text"]["text"]
    text = "\n".join(rest)
    assert "Overdue: T-3 KOL brief, T-5 Stock check" in text
    assert "Behind pace: G-2 1m visits (off track), G-3 3k orders (at risk)" in text
    assert "KPIs yesterday: 3 unusually good, 1 unusually bad, 2 within their normal range or new" in text
    assert "C-1 Black Friday 黑五 (ending)" in text and "R-1 十一月 retrospective" in text
    assert "<@" not in reply.text  # the notification does not ping owners a second time


def big() -> DigestData:
    long = "Very long title & <stuff> " * 60  # 1,560 characters, escaping makes it longer
    owners = [OwnerTasks(ANA, overdue=[task(n, f"{long}{n}", due=TODAY - timedelta(days=n % 30 + 1)) for n in range(1, 201)])]
    owners += [
        OwnerTasks(f"U{n:04d}", overdue=[task(1000 + n, long, owner=f"U{n:04d}", due=TODAY - timedelta(days=1))],
                   due_today=[task(2000 + n, "双十一 banner", owner=f"U{n:04d}")],
                   blocked=[task(3000 + n, "x", owner=f"U{n:04d}", due=None, status="blocked", reason=long)])
        for n in range(100)
    ]
    return DigestData(
        today=TODAY,
        owners=owners,  # 500 tasks
        goals=[goal(n, long, status=OFF_TRACK) for n in range(1, 61)],
        kpis=[kpi(n, f"metric {n} {long}") for n in range(1, 81)],
        campaigns=[campaign(n, long) for n in range(1, 41)],
        retros=[retro(n, long) for n in range(1, 31)],
    )


def test_large_data_stays_within_slack_limits_and_says_what_is_left_out() -> None:
    data = big()
    assert sum(o.total for o in data.owners) == 500
    reply = digest_reply(data, today=TODAY)
    assert_within_limits(reply)
    body = "\n".join(texts(reply.blocks))
    assert "_and 189 more_" in body  # one owner's long list: 200 tasks, 6 shown on their own above, 5 here
    assert "more people with tasks" in body
    assert "more goals — `/goal list`" in body
    assert "more metrics — `/kpi list`" in body
    assert "— `/campaign list`" in body
    assert "more open_" in body
    # every section still has its place after the long task list
    for title in ("Most urgent", "More tasks by owner", "Goals & pace", "KPIs yesterday", "Campaigns", "Open retrospectives"):
        assert title in body
    assert reply.blocks[-1]["type"] == "context"
    assert reply.ack_kwargs()["blocks"] == reply.blocks


@pytest.mark.parametrize("owners", [1, 7, 60, 500])
def test_many_owners_or_one_fits(owners: int) -> None:
    data = empty()
    data.owners = [
        OwnerTasks(f"U{o:04d}", overdue=[task(o * 1000 + n, "标题 & <x>" * 20, owner=f"U{o:04d}", due=TODAY - timedelta(days=1))
                                          for n in range(500 // owners)])
        for o in range(owners)
    ]
    assert_within_limits(digest_reply(data, today=TODAY))


HOSTILE = "<!channel> <!here> <@U999> & <https://evil.example|click>"


def test_user_typed_text_is_escaped_everywhere() -> None:
    data = DigestData(
        today=TODAY,
        owners=[OwnerTasks(ANA, overdue=[task(1, HOSTILE, due=TODAY - timedelta(days=1), status="blocked", reason=HOSTILE)])],
        goals=[goal(1, HOSTILE, metric=HOSTILE, current=None, status=None)],
        kpis=[kpi(1, HOSTILE)],
        campaigns=[campaign(1, HOSTILE, stage="ended")],
        retros=[retro(1, HOSTILE)],
    )
    reply = digest_reply(data, today=TODAY)
    assert_within_limits(reply)
    everything = json.dumps(reply.blocks, ensure_ascii=False) + reply.text
    for raw in ("<!channel>", "<!here>", "<@U999>", "<https://evil"):
        assert raw not in everything
    body = "\n".join(texts(reply.blocks))
    assert body.count("&lt;!channel&gt; &lt;!here&gt; &lt;@U999&gt; &amp; &lt;https://evil.example|click&gt;") >= 6
    assert f"<@{ANA}>" in body  # the owner's real mention still works


def test_an_empty_day_is_friendly_and_useful() -> None:
    reply = digest_reply(empty(), today=TODAY)
    assert_within_limits(reply)
    body = "\n".join(texts(reply.blocks))
    assert "A clear day" in body and "Nothing is due, overdue or blocked" in body
    assert "/task add" in body and "/goal add" in body and "/kpi log" in body
    assert reply.text == "Daily digest · Monday, November 23: a clear day, nothing due, overdue or blocked."


def test_quiet_sections_say_so_and_suggest_the_next_step() -> None:
    data = empty()
    data.goals = [goal(1)]
    reply = digest_reply(data, today=TODAY)
    assert_within_limits(reply)
    body = "\n".join(texts(reply.blocks))
    assert "Nothing due, overdue or blocked" in body and "/task add" in body
    assert "Nothing logged for yesterday (Sun Nov 22)" in body and "/kpi log" in body
    assert "Campaigns" not in body and "retrospectives" not in body  # empty optional sections are left out
    assert reply.blocks[1]["text"]["text"] == "0 due today · 0 overdue · 0 blocked · 1 goal: 1 on track"


def test_cjk_text_stays_intact() -> None:
    data = empty()
    data.owners = [OwnerTasks(ANA, due_today=[task(1, "双十一主会场 Banner 设计")])]
    data.goals = [goal(1, "第四季度 GMV 目标", metric="成交额")]
    data.kpis = [kpi(1, "天猫访客数")]
    data.campaigns = [campaign(1, "双十二预售")]
    data.retros = [retro(1, "十一月复盘")]
    reply = digest_reply(data, today=TODAY)
    assert_within_limits(reply)
    everything = json.dumps(reply.blocks, ensure_ascii=False)
    for text in ("双十一主会场 Banner 设计", "第四季度 GMV 目标", "天猫访客数", "双十二预售", "十一月复盘"):
        assert text in everything
    assert "双十二预售" in reply.text and "十一月复盘" in reply.text


def test_a_custom_title_goes_in_the_header() -> None:
    reply = digest_reply(full(), today=TODAY, title="早报 Morning digest")
    assert reply.blocks[0]["text"]["text"] == "早报 Morning digest · Monday, November 23"
    assert reply.in_channel


# ---- the most urgent tasks: their own line and buttons -------------------------------------------

def test_the_most_urgent_tasks_have_their_own_line_and_buttons() -> None:
    reply = digest_reply(full(), today=TODAY)
    assert_within_limits(reply)
    lines, actions = record_blocks(reply, BlockId.TASK_LINE), record_blocks(reply, BlockId.TASK_ACTIONS)
    # overdue first, the oldest due date first; then due today; the blocked task not due yet (T-4) stays compact
    assert list(lines) == ["T-3", "T-5", "T-1", "T-6"]
    assert list(actions) == list(lines)
    ids = [b.get("block_id") for b in reply.blocks]
    for ref in lines:  # each line is followed by its buttons: a click replaces those with a note, just under the line
        assert ids.index(record_block(BlockId.TASK_ACTIONS, ref)) == ids.index(record_block(BlockId.TASK_LINE, ref)) + 1
        assert lines[ref]["type"] == "section" and "accessory" not in lines[ref]
        assert actions[ref]["type"] == "actions"

    def buttons(ref: str) -> list[tuple[str, str]]:
        return [(e["action_id"], e["value"]) for e in actions[ref]["elements"]]

    assert buttons("T-3") == [(ActionId.TASK_START, "T-3"), (ActionId.TASK_DONE, "T-3"), (ActionId.TASK_BLOCK, "T-3"),
                              (ActionId.TASK_SNOOZE, "T-3@2026-11-18")]
    # blocked already: no Block…; Snooze remembers the due date it moves from
    assert buttons("T-5") == [(ActionId.TASK_START, "T-5"), (ActionId.TASK_DONE, "T-5"), (ActionId.TASK_SNOOZE, "T-5@2026-11-21")]
    assert [e["text"]["text"] for e in actions["T-1"]["elements"]] == ["Start", "Done", "Block…", "Snooze a day"]
    # exactly the block a task reply carries, so a click on either is handled and redrawn the same way
    assert actions["T-1"] == views.task_actions_block(1, "todo", TODAY)
    assert lines["T-1"]["text"]["text"] == f":white_circle: *T-1* Banner for 双十一 · <@{ANA}> · due today · C-2"
    assert "/task assign T-6 @someone" in lines["T-6"]["text"]["text"]
    # every task is listed once: the ones with buttons are not repeated in the owner groups
    body = "\n".join(texts(reply.blocks))
    for ref in ("T-1", "T-3", "T-4", "T-5", "T-6"):
        assert body.count(f"*{ref}*") == 1, ref


def test_a_started_task_offers_no_start() -> None:
    data = empty()
    data.owners = [OwnerTasks(ANA, due_today=[task(7, status="in_progress")])]
    actions = record_blocks(digest_reply(data, today=TODAY), BlockId.TASK_ACTIONS)
    assert [e["action_id"] for e in actions["T-7"]["elements"]] == [ActionId.TASK_DONE, ActionId.TASK_BLOCK, ActionId.TASK_SNOOZE]


def test_only_the_first_few_get_buttons_and_the_rest_stay_compact() -> None:
    data = empty()
    data.owners = [
        OwnerTasks(ANA, overdue=[task(n, f"Old {n}", due=TODAY - timedelta(days=n)) for n in range(1, 6)],
                   due_today=[task(n, f"Today {n}") for n in range(20, 24)]),
        OwnerTasks(BO, overdue=[task(10, "Oldest", owner=BO, due=TODAY - timedelta(days=30))],
                   blocked=[task(11, "Waiting", owner=BO, due=None, status="blocked", reason="legal")]),
    ]
    reply = digest_reply(data, today=TODAY)
    assert_within_limits(reply)
    assert URGENT_TASKS == 6
    # every overdue task before any due today, most overdue first, whoever owns it
    assert list(record_blocks(reply, BlockId.TASK_LINE)) == ["T-10", "T-5", "T-4", "T-3", "T-2", "T-1"]
    body = "\n".join(texts(reply.blocks))
    assert "*:clipboard: More tasks by owner*" in body
    assert f"*<@{ANA}>* · 4 due today" in body  # the counts are of what is listed there
    assert f"*<@{BO}>* · 1 blocked" in body
    for n in (*range(1, 6), 10, 11, *range(20, 24)):
        assert body.count(f"*T-{n}*") == 1, n
    assert reply.blocks[1]["text"]["text"].startswith("4 due today · 6 overdue · 1 blocked")  # the summary counts all


def test_blocked_tasks_not_due_yet_keep_the_compact_list_only() -> None:
    data = empty()
    data.owners = [OwnerTasks(BO, blocked=[task(4, "Fix landing page", owner=BO, due=None, status="blocked", reason="IT")])]
    reply = digest_reply(data, today=TODAY)
    assert_within_limits(reply)
    assert not record_blocks(reply, BlockId.TASK_LINE) and not record_blocks(reply, BlockId.TASK_ACTIONS)
    body = "\n".join(texts(reply.blocks))
    assert "*:clipboard: Tasks by owner*" in body and "Most urgent" not in body


def test_the_budget_leaves_room_for_what_clicks_add() -> None:
    # the packed sections, the urgent lines with their buttons, and one more block per urgent task after a click
    packed = 2 + 5 + 1 + sum(blocks for _items, blocks in LIMITS.values())  # header, summary, dividers, footer
    assert packed == PACKED_BLOCKS
    assert PACKED_BLOCKS + URGENT_BLOCKS + URGENT_TASKS <= MAX_BLOCKS
    reply = digest_reply(big(), today=TODAY)
    assert len(reply.blocks) <= PACKED_BLOCKS + URGENT_BLOCKS
    assert len(record_blocks(reply, BlockId.TASK_ACTIONS)) == URGENT_TASKS


@pytest.mark.parametrize("make", [big, full], ids=["500 tasks", "full"])
def test_starting_every_urgent_task_keeps_the_message_within_limits(make: Callable[[], DigestData]) -> None:
    """What the click handler does to the posted digest (views.update_task_blocks): a started task's buttons
    become a note plus the buttons still relevant; nothing is dropped and Slack's limits hold."""
    reply = digest_reply(make(), today=TODAY)
    blocks = reply.blocks
    refs = list(record_blocks(reply, BlockId.TASK_LINE))
    for ref in refs:
        number = int(ref.removeprefix("T-"))
        started = TaskCard.of(Task(number=number, title=f"Task {number}", owner_id=ANA, status="in_progress", due_on=TODAY))
        blocks = views.update_task_blocks(blocks, started, note=f"{ref} started by <@{BO}>", today=TODAY)
    assert len(blocks) <= MAX_BLOCKS
    updated = Reply(text=reply.text, blocks=blocks)
    assert_within_limits(updated)
    notes = record_blocks(updated, BlockId.TASK_NOTE)
    assert list(notes) == refs, "every click's note is kept, under its task"
    for ref in refs:
        assert [e["action_id"] for e in record_blocks(updated, BlockId.TASK_ACTIONS)[ref]["elements"]] == [
            ActionId.TASK_DONE, ActionId.TASK_BLOCK, ActionId.TASK_SNOOZE]


def test_every_block_round_trips_through_slack_sdk() -> None:
    for data in (full(), big()):
        for raw in digest_reply(data, today=TODAY).blocks:
            parsed = Block.parse(raw)
            assert parsed is not None and parsed.to_dict() == raw


def test_a_goal_past_its_deadline_is_counted_and_a_missed_one_named_as_behind() -> None:
    from bot.metrics import MISSED, REACHED
    from bot.render.digest import fallback_text, pace_summary

    data = DigestData(today=TODAY, owners=[], goals=[goal(1, status=MISSED), goal(2, "Q3 orders", status=REACHED),
                                                      goal(3, "CTR", status=ON_TRACK)], kpis=[], campaigns=[], retros=[])
    summary = pace_summary(data)
    assert summary.startswith("3 goals:") and "1 missed" in summary and "1 reached" in summary, summary
    assert "G-1 Q4 GMV (missed)" in fallback_text(data, header="Daily digest"), "a missed goal is behind"
