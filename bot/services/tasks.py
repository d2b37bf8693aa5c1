"""Tasks: owner, dates, status, and links to campaigns and goals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, case, insert, select
from sqlalchemy.orm import Session, make_transient_to_detached

from bot.errors import UserError, check_length
from bot.services import notifications
from bot.services.notifications import Actor
from bot.services.refs import get_by_number, next_number, not_found
from storage.models import Campaign, Goal, Task
from storage.prepared import Prepared, Unit, column_binds
from storage.types import utcnow

_INSERT_TASK = Prepared(insert(Task).values(column_binds(Task)).returning(Task.id))

STATUS_LABEL = {"todo": "to do", "in_progress": "in progress", "blocked": "blocked", "done": "done"}


@dataclass(frozen=True)
class TaskCreate:
    title: str
    owner_id: str | None = None
    due_on: date | None = None
    start_on: date | None = None
    campaign: int | None = None
    goal: int | None = None
    source_permalink: str | None = None
    slack_channel_id: str | None = None


@dataclass(frozen=True)
class CampaignRef:
    id: int
    number: int
    name: str


@dataclass(frozen=True)
class GoalRef:
    id: int
    number: int
    title: str


@dataclass(frozen=True)
class NewTask:
    """A task as it was just recorded: what its confirmation shows (no ORM object on the busiest path)."""

    id: int
    number: int
    title: str
    owner_id: str | None
    status: str
    start_on: date | None
    due_on: date | None
    source_permalink: str | None
    campaign: CampaignRef | None
    goal: GoalRef | None


@dataclass(frozen=True)
class TaskCard:
    """A task as its lines, cards and confirmations show it, its campaign and goal included (read in the session)."""

    number: int
    title: str
    owner_id: str | None
    status: str
    start_on: date | None
    due_on: date | None
    block_reason: str | None
    source_permalink: str | None
    campaign: CampaignRef | None
    goal: GoalRef | None

    @property
    def campaign_number(self) -> int | None:
        return self.campaign.number if self.campaign is not None else None

    @property
    def goal_number(self) -> int | None:
        return self.goal.number if self.goal is not None else None

    @classmethod
    def of(cls, task: Task) -> TaskCard:
        campaign, goal = task.campaign, task.goal
        return cls(
            number=task.number, title=task.title, owner_id=task.owner_id, status=task.status, start_on=task.start_on,
            due_on=task.due_on, block_reason=task.block_reason, source_permalink=task.source_permalink,
            campaign=CampaignRef(campaign.id, campaign.number, campaign.name) if campaign is not None else None,
            goal=GoalRef(goal.id, goal.number, goal.title) if goal is not None else None,
        )


_CAMPAIGN = Prepared(
    select(Campaign.id, Campaign.number, Campaign.name)
    .where(Campaign.workspace_id == bindparam("workspace_id"), Campaign.number == bindparam("number"))
)
_GOAL = Prepared(
    select(Goal.id, Goal.number, Goal.title)
    .where(Goal.workspace_id == bindparam("workspace_id"), Goal.number == bindparam("number"))
)


def add_task(unit: Unit, *, workspace_id: str, data: TaskCreate, user_id: str | None, by: Actor | None = None) -> NewTask:
    """Record a task with prepared statements (`/task add` is the busiest command), on a Session or a bare
    transaction (Database.transaction). With `by`, an owner other than `by` is told it is theirs now."""
    return _insert(unit, workspace_id=workspace_id, data=data, user_id=user_id, by=by)[0]


def create_task(
    session: Session, *, workspace_id: str, data: TaskCreate, user_id: str | None, by: Actor | None = None
) -> Task:
    """Record a task and return it attached to the session (as if loaded), for callers that go on changing it."""
    new, values = _insert(session, workspace_id=workspace_id, data=data, user_id=user_id, by=by)
    task = Task(id=new.id, **values)
    make_transient_to_detached(task)
    session.add(task)
    return task


def _insert(
    unit: Unit, *, workspace_id: str, data: TaskCreate, user_id: str | None, by: Actor | None
) -> tuple[NewTask, dict[str, Any]]:
    check_length(data.title, field="title")
    if data.start_on and data.due_on and data.due_on < data.start_on:
        raise UserError.of("error.due_before_start", due=data.due_on, start=data.start_on)
    campaign = goal = None
    if data.campaign is not None:
        found = _CAMPAIGN.rows(unit, {"workspace_id": workspace_id, "number": data.campaign})
        if not found:
            raise not_found("campaign", data.campaign)
        campaign = CampaignRef(*found[0])
    if data.goal is not None:
        found = _GOAL.rows(unit, {"workspace_id": workspace_id, "number": data.goal})
        if not found:
            raise not_found("goal", data.goal)
        goal = GoalRef(*found[0])
    now = utcnow()
    number = next_number(unit, workspace_id=workspace_id, kind="task")
    values: dict[str, Any] = {
        "workspace_id": workspace_id,
        "number": number,
        "title": data.title,
        "owner_id": data.owner_id,
        "status": "todo",
        "block_reason": None,
        "start_on": data.start_on,
        "due_on": data.due_on,
        "campaign_id": campaign.id if campaign else None,
        "goal_id": goal.id if goal else None,
        "source_permalink": data.source_permalink,
        "slack_channel_id": data.slack_channel_id,
        "retro_id": None,
        "created_by": user_id,
        "created_at": now,
        "updated_at": now,
        "completed_at": None,
    }
    task_id = int(_INSERT_TASK.rows(unit, values)[0][0])
    notifications.record(unit, workspace_id=workspace_id, user_id=data.owner_id, by=by, subject=notifications.TASK,
                         number=number, kind=notifications.ASSIGNED)
    new = NewTask(
        id=task_id, number=number, title=data.title, owner_id=data.owner_id, status="todo",
        start_on=data.start_on, due_on=data.due_on, source_permalink=data.source_permalink, campaign=campaign, goal=goal,
    )
    return new, values


def get_task(session: Session, *, workspace_id: str, number: int, for_update: bool = False) -> Task:
    return get_by_number(session, Task, workspace_id=workspace_id, number=number, kind="task", for_update=for_update)


@dataclass
class Change:
    task: Task
    changed: bool  # False when the task was already in that state: clicking twice does no harm
    before: str

    def shown(self) -> TaskChange:
        """The change as replies show it."""
        return TaskChange(TaskCard.of(self.task), self.changed, self.before)


@dataclass(frozen=True)
class TaskChange:
    """A change to a task as replies show it: the task after it, whether anything changed, its status before."""

    task: TaskCard
    changed: bool
    before: str


def _tell(session: Session, task: Task, by: Actor | None, kind: str, **detail: Any) -> None:
    """The task's owner is told of a change someone else made (bot.services.notifications)."""
    notifications.record(session, workspace_id=task.workspace_id, user_id=task.owner_id, by=by,
                         subject=notifications.TASK, number=task.number, kind=kind, detail=detail or None)


def set_status(
    session: Session, *, workspace_id: str, number: int, status: str, reason: str | None = None, by: Actor | None = None
) -> Change:
    task = get_task(session, workspace_id=workspace_id, number=number, for_update=True)
    before = task.status
    if status == "blocked" and not reason:
        raise UserError.of("error.task.block_why")
    if before == status and (status != "blocked" or reason == task.block_reason):
        return Change(task, False, before)
    task.status = status
    task.block_reason = reason if status == "blocked" else None
    task.completed_at = utcnow() if status == "done" else None
    task.updated_at = utcnow()
    _tell(session, task, by, notifications.STATUS, status=status, **({"reason": reason} if status == "blocked" else {}))
    return Change(task, True, before)


def assign(session: Session, *, workspace_id: str, number: int, owner_id: str, by: Actor | None = None) -> Change:
    task = get_task(session, workspace_id=workspace_id, number=number, for_update=True)
    before = task.owner_id or ""
    if task.owner_id == owner_id:
        return Change(task, False, before)
    _tell(session, task, by, notifications.UNASSIGNED, to=owner_id)  # the one it was taken from
    task.owner_id = owner_id
    task.updated_at = utcnow()
    _tell(session, task, by, notifications.ASSIGNED)
    return Change(task, True, before)


def set_due(
    session: Session, *, workspace_id: str, number: int, due_on: date, by: Actor | None = None, snoozed: bool = False
) -> Change:
    task = get_task(session, workspace_id=workspace_id, number=number, for_update=True)
    before = task.due_on.isoformat() if task.due_on else ""
    if task.start_on and due_on < task.start_on:
        raise UserError.of("error.task.due_before_task_start", due=due_on, start=task.start_on)
    if task.due_on == due_on:
        return Change(task, False, before)
    task.due_on = due_on
    task.updated_at = utcnow()
    _tell(session, task, by, notifications.DUE, due=due_on.isoformat(), **({"snoozed": True} if snoozed else {}))
    return Change(task, True, before)


@dataclass(frozen=True)
class TaskFilter:
    owner_id: str | None = None
    overdue: bool = False
    blocked: bool = False
    include_done: bool = False
    campaign: int | None = None


def list_tasks(session: Session, *, workspace_id: str, filters: TaskFilter, today: date, limit: int = 200) -> list[Task]:
    query = select(Task).where(Task.workspace_id == workspace_id)
    if not filters.include_done:
        query = query.where(Task.status != "done")
    if filters.owner_id:
        query = query.where(Task.owner_id == filters.owner_id)
    if filters.overdue:
        query = query.where(Task.due_on < today, Task.status != "done")
    if filters.blocked:
        query = query.where(Task.status == "blocked")
    if filters.campaign is not None:
        campaign = get_by_number(session, Campaign, workspace_id=workspace_id, number=filters.campaign, kind="campaign")
        query = query.where(Task.campaign_id == campaign.id)
    order_done_last = case((Task.status == "done", 1), else_=0)
    no_due_last = case((Task.due_on.is_(None), 1), else_=0)
    query = query.order_by(order_done_last, no_due_last, Task.due_on, Task.number).limit(limit)
    return list(session.scalars(query))
