"""What one person's App Home tab shows, as plain data: their open tasks, the goals they own with pace, the
live campaigns and the workspace's latest KPI chart. Read in one session; the renderer (bot.render.home)
never sees a database row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.services import campaigns, chart_files, goals, tasks
from storage.models import Task

MAX_TASKS = 40  # the tasks read (ordered by due date: the overdue ones come first); the rest are counted
GOAL_LIMIT = 25
CAMPAIGN_LIMIT = 20


@dataclass(frozen=True)
class HomeTask:
    number: int
    title: str
    owner_id: str | None
    status: str
    due_on: date | None
    block_reason: str | None = None
    campaign_number: int | None = None
    goal_number: int | None = None


@dataclass(frozen=True)
class HomeGoal:
    number: int
    title: str
    owner_id: str | None
    status: str
    unit: str | None
    target: Decimal
    due_on: date
    progress: goals.Progress


@dataclass(frozen=True)
class HomeCampaign:
    number: int
    name: str
    phase: str  # upcoming | live | ended | closed
    start_on: date
    end_on: date
    channels: tuple[str, ...]
    budget: Decimal | None
    currency: str | None
    spend: Decimal


@dataclass(frozen=True)
class HomeData:
    user_id: str
    today: date
    tasks: list[HomeTask]
    goals: list[HomeGoal]
    campaigns: list[HomeCampaign]
    total_tasks: int | None = None  # open tasks in all, when more exist than are listed
    total_goals: int | None = None
    total_campaigns: int | None = None
    chart_file_id: str | None = None  # a file the bot uploaded (Block Kit's `slack_file`); wins over chart_url
    chart_url: str | None = None
    chart_title: str | None = None


def home_data(session: Session, *, workspace_id: str, user_id: str, today: date, locale: str | None = None) -> HomeData:
    """`locale`: the reader's; the chart shown is the latest drawn in that language (None: in any)."""
    rows = tasks.list_tasks(session, workspace_id=workspace_id, filters=tasks.TaskFilter(owner_id=user_id), today=today,
                            limit=MAX_TASKS)
    open_count = session.scalar(
        select(func.count()).select_from(Task)
        .where(Task.workspace_id == workspace_id, Task.owner_id == user_id, Task.status != "done")
    )
    owned = [g for g in goals.list_goals(session, workspace_id=workspace_id) if g.owner_id == user_id]
    live = [c for c in campaigns.list_campaigns(session, workspace_id=workspace_id) if campaigns.phase(c, today) == "live"]
    summaries = [campaigns.summary(session, campaign=c) for c in live[:CAMPAIGN_LIMIT]]
    chart = chart_files.latest(session, workspace_id, locale=locale)
    return HomeData(
        user_id=user_id,
        today=today,
        tasks=[
            HomeTask(
                number=task.number, title=task.title, owner_id=task.owner_id, status=task.status, due_on=task.due_on,
                block_reason=task.block_reason,
                campaign_number=task.campaign.number if task.campaign is not None else None,
                goal_number=task.goal.number if task.goal is not None else None,
            )
            for task in rows
        ],
        goals=[
            HomeGoal(
                number=goal.number, title=goal.title, owner_id=goal.owner_id, status=goal.status, unit=goal.metric.unit,
                target=goal.target, due_on=goal.due_on, progress=goals.progress(session, goal=goal, today=today),
            )
            for goal in owned[:GOAL_LIMIT]
        ],
        campaigns=[
            HomeCampaign(
                number=s.campaign.number, name=s.campaign.name, phase=campaigns.phase(s.campaign, today),
                start_on=s.campaign.start_on, end_on=s.campaign.end_on, channels=tuple(s.campaign.channels or ()),
                budget=s.campaign.budget, currency=s.campaign.currency, spend=s.spend,
            )
            for s in summaries
        ],
        total_tasks=int(open_count or 0),
        total_goals=len(owned),
        total_campaigns=len(live),
        chart_file_id=chart.file_id if chart else None,
        chart_title=chart.title if chart else None,
    )
