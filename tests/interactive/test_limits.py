"""The pure builders against Slack's limits with large data: 50 blocks per message, 100 per modal or Home,
3,000 characters per section, 75 per button, 24 per modal title/submit/close, private_metadata under 3,000;
everything parses with slack_sdk's own Block Kit models."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.i18n import EN, LOCALES
from bot.ids import BlockId, record_block
from bot.render import home, modals, views
from bot.render.reply import Reply
from bot.render.retro import parent_post
from bot.services.campaigns import CampaignCard, CampaignSummary
from bot.services.goals import GoalCard, Progress
from bot.services.home import HomeCampaign, HomeData, HomeGoal, HomeTask
from bot.services.retros import RetroCard, RetroGoal, RetroKpi, RetroResults
from bot.services.tasks import TaskCard, TaskChange, TaskFilter
from commands import mkt
from storage.models import Campaign, Goal, Metric, Task
from tests.support.text import texts

TODAY = date(2026, 11, 23)
LONG = "双十一 <!channel> & banner " * 300  # ~7,800 characters of user-typed text
STATUSES = ("todo", "in_progress", "blocked", "done")


def task(n: int, *, title: str = LONG, status: str = "todo", due: date | None = TODAY) -> TaskCard:
    return TaskCard.of(Task(number=n, title=f"{title} {n}", owner_id="U0ANA", status=status, due_on=due, block_reason=LONG,
                            workspace_id="T1"))


def goal(n: int) -> GoalCard:
    return GoalCard.of(Goal(number=n, title=f"{LONG} {n}", metric=Metric(number=1, name=LONG[:100], unit="¥"),
                            target=Decimal(2_500_000), start_on=date(2026, 10, 1), due_on=date(2026, 12, 31),
                            owner_id="U0ANA", status="active"))


PROGRESS = Progress(current=Decimal(1_000_000), source="kpi", percent_of_target=Decimal("0.4"), percent_of_time=Decimal("0.6"),
                    status="at risk", projected=Decimal(2_000_000), needed_per_day=Decimal(40_000), confidence=6)


def summary(n: int) -> CampaignCard:
    campaign = Campaign(number=n, name=f"{LONG} {n}", start_on=date(2026, 11, 1), end_on=date(2026, 11, 30),
                        channels=["天猫", "JD"], budget=Decimal(200_000), currency="¥", status="open")
    return CampaignCard.of(CampaignSummary(campaign=campaign, spend=Decimal(50_000), spend_by_channel={}, revenue=None,
                                           revenue_metric=None, roi=None, goals=[], risks=[], documents=[], open_tasks=1,
                                           done_tasks=0), TODAY)


def check_message(reply: Reply) -> None:
    assert len(reply.blocks) <= 50
    for raw in reply.blocks:
        Block.parse(raw).validate_json()  # type: ignore[union-attr]
        check_block(raw)


def check_block(raw: dict[str, Any]) -> None:
    if raw.get("type") == "section" and "text" in raw:
        assert len(raw["text"]["text"]) <= 3000
    elements = raw.get("elements") or ([raw["accessory"]] if "accessory" in raw else [])
    for element in elements:
        if element.get("type") == "button":
            assert len(element["text"]["text"]) <= 75
            assert len(element.get("value", "")) <= 2000
        for option in element.get("options") or []:
            assert len(option["text"]["text"]) <= 75


def check_view(view: dict[str, Any]) -> None:
    View(**view).validate_json()
    assert len(view["blocks"]) <= 100
    assert len(view.get("private_metadata") or "") < 3000
    for key in ("title", "submit", "close"):
        if view.get(key):
            assert len(view[key]["text"]) <= 24
    for raw in view["blocks"]:
        check_block(raw)
        element = raw.get("element") or {}
        assert len(element.get("options") or []) <= 100


@pytest.mark.parametrize("locale", LOCALES)
def test_task_replies_with_huge_titles(locale: str) -> None:
    for status in STATUSES:
        t = task(1, status=status)
        check_message(views.task_created(t, today=TODAY, locale=locale))
        for changed in (True, False):
            check_message(views.task_changed(TaskChange(t, changed, "todo"), actor="U0BO", today=TODAY, locale=locale))
    check_message(views.task_list([task(n) for n in range(1, 501)], filters=TaskFilter(), today=TODAY, viewer="U0ANA",
                                  locale=locale))


@pytest.mark.parametrize("locale", LOCALES)
def test_goal_and_campaign_replies(locale: str) -> None:
    g = goal(1)
    check_message(views.goal_created(g, today=TODAY, actor="U0ANA", locale=locale))
    check_message(views.goal_checked_in(g, PROGRESS, today=TODAY, actor="U0ANA", locale=locale))
    check_message(views.goal_show(g, PROGRESS, [(goal(n), PROGRESS) for n in range(2, 300)], today=TODAY, locale=locale))
    check_message(views.goal_list([(goal(n), PROGRESS) for n in range(1, 300)], today=TODAY, locale=locale))
    check_message(views.campaign_list([summary(n) for n in range(1, 300)], today=TODAY, locale=locale))
    check_message(mkt.help_reply(locale=locale))


def test_update_task_blocks_never_passes_50() -> None:
    blocks: list[dict[str, Any]] = []
    for n in range(1, 17):  # 16 tasks × (line + buttons) + header-ish blocks = 50
        blocks.append({"type": "section", "block_id": record_block(BlockId.TASK_LINE, f"T-{n}"),
                       "text": {"type": "mrkdwn", "text": f"T-{n}"}})
        actions = views.task_actions_block(n, "todo", TODAY)
        assert actions is not None
        blocks.append(actions)
    blocks += [{"type": "divider"}] * (50 - len(blocks))
    out = views.update_task_blocks(blocks, task(3, status="done"), note="done by someone", today=TODAY)
    assert len(out) <= 50
    assert views.update_task_blocks(blocks, task(3, status="in_progress"), note="x", today=TODAY)[:4] == blocks[:4]


def test_retro_parent_keeps_its_buttons_within_50_blocks() -> None:
    retro = RetroCard(number=1, title=LONG, period_start=date(2026, 11, 1), period_end=date(2026, 11, 30))
    data = RetroResults(goals=[RetroGoal(f"G-{n}", LONG, Decimal(1), Decimal(2), "¥", "on track", Decimal("0.5")) for n in range(50)],
                        kpis=[RetroKpi(LONG, Decimal(1), Decimal(2), None, "up", 7, 30) for _ in range(50)], spend=Decimal(1))
    reply = parent_post(retro, data, today=TODAY)
    check_message(reply)
    assert reply.blocks[-1]["block_id"] == record_block(BlockId.RETRO_ACTIONS, "R-1")


@pytest.mark.parametrize("locale", LOCALES)
def test_modals_with_many_options_and_long_prefills(locale: str) -> None:
    many = modals.Choices(
        campaigns=[modals.Choice(f"C-{n}", f"C-{n} {LONG}") for n in range(300)],
        goals=[modals.Choice(f"G-{n}", f"G-{n} {LONG}") for n in range(300)],
        metrics=[modals.Choice(LONG[:100] + str(n), LONG) for n in range(300)],
    )
    meta = {"c": "C0GENERAL", "p": "https://acme.slack.com/archives/C1/p1" + "9" * 4000, "u": "https://hooks/x", "l": locale}
    prefill = modals.TaskPrefill(title=LONG, source_text=LONG * 3)
    check_view(modals.task_modal(locale=locale, choices=many, prefill=prefill, metadata=meta))
    check_view(modals.goal_modal(locale=locale, choices=many, metadata=meta))
    check_view(modals.campaign_modal(locale=locale, choices=many, metadata=meta))
    check_view(modals.feedback_modal(locale=locale, choices=many, metadata=meta,
                                     prefill=modals.FeedbackPrefill(text=LONG * 3, source="customer")))
    check_view(modals.block_reason_modal(locale=locale, ref="T-123456", summary=LONG, metadata=meta))
    check_view(modals.checkin_modal(locale=locale, ref="G-123456", summary=LONG, metadata=meta))
    check_view(modals.retro_note_modal(locale=locale, ref="R-123456", summary=LONG, metadata=meta))
    empty = modals.task_modal(locale=locale, choices=modals.Choices(), metadata={"l": locale})
    check_view(empty)
    assert {b["block_id"] for b in empty["blocks"]} == {BlockId.TITLE, BlockId.OWNER, BlockId.START, BlockId.DUE}


def test_private_metadata_drops_optional_keys_before_it_breaks() -> None:
    text = modals.encode_metadata({"c": "C1", "r": "T-1", "p": "x" * 5000})
    assert len(text) < 3000 and modals.decode_metadata(text) == {"c": "C1", "r": "T-1"}
    with pytest.raises(ValueError):
        modals.encode_metadata({"r": "x" * 5000})
    assert modals.decode_metadata("not json") == {}


def home_task(n: int, *, status: str, due: date) -> HomeTask:
    return HomeTask(number=n, title=f"{LONG} {n}", owner_id="U0ANA", status=status, due_on=due, block_reason=LONG)


def home_goal(n: int) -> HomeGoal:
    return HomeGoal(number=n, title=f"{LONG} {n}", owner_id="U0ANA", status="active", unit="¥", target=Decimal(2_500_000),
                    due_on=date(2026, 12, 31), progress=PROGRESS)


def home_campaign(n: int) -> HomeCampaign:
    return HomeCampaign(number=n, name=f"{LONG} {n}", phase="live", start_on=date(2026, 11, 1), end_on=date(2026, 11, 30),
                        channels=("天猫", "JD"), budget=Decimal(200_000), currency="¥", spend=Decimal(50_000))


@pytest.mark.parametrize("locale", LOCALES)
def test_home_with_hundreds_of_records(locale: str) -> None:
    tasks = [home_task(n, status=STATUSES[n % 3], due=TODAY + timedelta(days=n - 150)) for n in range(1, 301)]
    data = HomeData(user_id="U0ANA", today=TODAY, tasks=tasks, goals=[home_goal(n) for n in range(100)],
                    campaigns=[home_campaign(n) for n in range(60)], total_tasks=300, total_goals=100,
                    total_campaigns=60, chart_url="https://example.com/chart.png")
    view = home.home_view(data, locale=locale, notice=LONG)
    check_view(view)
    ids = [b.get("block_id") for b in view["blocks"]]
    first = ids.index(record_block(BlockId.HOME_TASK, "T-1"))
    assert ids[first + 1] == record_block(BlockId.HOME_TASK, "T-2"), "overdue first, oldest first"
    assert any("260" in t for t in texts(view["blocks"])), "and 260 more tasks"


def test_home_when_empty() -> None:
    view = home.home_view(HomeData(user_id="U0ANA", today=TODAY, tasks=[], goals=[], campaigns=[]), locale=EN)
    check_view(view)
    assert "Nothing open" in " ".join(texts(view["blocks"]))
