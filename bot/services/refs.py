"""Short per-workspace references (T-12, G-3, …): allocation and lookup."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.errors import NotFound
from storage.models import Campaign, Counter, Feedback, Goal, Metric, Task, Workspace

PREFIX = {"task": "T", "goal": "G", "campaign": "C", "feedback": "F", "retro": "R", "kpi": "K", "schedule": "S"}
NOUN = {
    "task": "task", "goal": "goal", "campaign": "campaign", "feedback": "feedback", "retro": "retrospective",
    "kpi": "KPI metric", "schedule": "schedule",
}
MODELS: dict[str, Any] = {"task": Task, "goal": Goal, "campaign": Campaign, "feedback": Feedback, "kpi": Metric}

M = TypeVar("M")


def ref(kind: str, number: int) -> str:
    return f"{PREFIX[kind]}-{number}"


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def ensure_workspace(session: Session, workspace_id: str, name: str | None = None) -> None:
    insert = _insert(session)
    session.execute(insert(Workspace).values(id=workspace_id, name=name).on_conflict_do_nothing())


def next_number(session: Session, *, workspace_id: str, kind: str) -> int:
    """Allocate the next number; the row lock on the counter serialises concurrent writers."""
    prefix = PREFIX[kind]
    ensure_workspace(session, workspace_id)
    insert = _insert(session)
    session.execute(
        insert(Counter).values(workspace_id=workspace_id, kind=prefix, value=0).on_conflict_do_nothing()
    )
    value = session.execute(
        update(Counter)
        .where(Counter.workspace_id == workspace_id, Counter.kind == prefix)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar_one()
    return int(value)


def get_by_number(
    session: Session, model: type[M], *, workspace_id: str, number: int, kind: str, for_update: bool = False
) -> M:
    query = select(model).where(model.workspace_id == workspace_id, model.number == number)  # type: ignore[attr-defined]
    if for_update:
        # Two clicks at once on PostgreSQL: the second waits, then sees the first one's change.
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise NotFound(f"There is no {NOUN[kind]} `{ref(kind, number)}` in this workspace.")
    return row
