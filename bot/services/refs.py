"""Short per-workspace references (T-12, G-3, …): allocation and lookup."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session

from bot.errors import NotFound
from storage.models import Campaign, Counter, Feedback, Goal, Metric, Task, Workspace
from storage.prepared import Unit, dialect_of, per_dialect
from storage.types import utcnow

PREFIX = {"task": "T", "goal": "G", "campaign": "C", "feedback": "F", "retro": "R", "kpi": "K", "schedule": "S"}
MODELS: dict[str, Any] = {"task": Task, "goal": Goal, "campaign": Campaign, "feedback": Feedback, "kpi": Metric}

M = TypeVar("M")


def ref(kind: str, number: int) -> str:
    return f"{PREFIX[kind]}-{number}"


_KNOWN_WORKSPACES: set[tuple[str, str]] = set()  # (database URL, workspace id)


_INSERT_WORKSPACE = per_dialect(
    lambda insert: insert(Workspace)
    .values(id=bindparam("id"), name=bindparam("name"), created_at=bindparam("created_at"))
    .on_conflict_do_nothing()
)


def ensure_workspace(unit: Unit, workspace_id: str, name: str | None = None) -> None:
    """Create the workspace row once; this process remembers it after the first commit that saw it."""
    url = unit.get_bind().engine.url if isinstance(unit, Session) else unit.url
    key = (str(url), workspace_id)
    if key in _KNOWN_WORKSPACES:
        return
    _INSERT_WORKSPACE[dialect_of(unit).name].rows(unit, {"id": workspace_id, "name": name, "created_at": utcnow()})
    if isinstance(unit, Session):
        event.listen(unit, "after_commit", lambda _s: _KNOWN_WORKSPACES.add(key), once=True)
    else:
        unit.after_commit(lambda: _KNOWN_WORKSPACES.add(key))


# every new record runs this: prepared once per dialect, run on the driver
_COUNTER_UPSERT = per_dialect(
    lambda insert: insert(Counter)
    .values(workspace_id=bindparam("workspace_id"), kind=bindparam("kind"), value=1)
    .on_conflict_do_update(index_elements=[Counter.workspace_id, Counter.kind], set_={"value": Counter.value + 1})
    .returning(Counter.value)
)


def next_number(unit: Unit, *, workspace_id: str, kind: str) -> int:
    """Allocate the next number with one upsert; the row lock on the counter serialises concurrent writers."""
    ensure_workspace(unit, workspace_id)
    upsert = _COUNTER_UPSERT[dialect_of(unit).name]
    return int(upsert.rows(unit, {"workspace_id": workspace_id, "kind": PREFIX[kind]})[0][0])


def not_found(kind: str, number: int) -> NotFound:
    """"There is no task `T-9` in this workspace." (one message per kind: error.no_task, error.no_goal, …)"""
    return NotFound.of(f"error.no_{kind}", ref=ref(kind, number))


def get_by_number(
    session: Session, model: type[M], *, workspace_id: str, number: int, kind: str, for_update: bool = False
) -> M:
    query = select(model).where(model.workspace_id == workspace_id, model.number == number)  # type: ignore[attr-defined]
    if for_update:
        # Two clicks at once on PostgreSQL: the second waits, then sees the first one's change.
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise not_found(kind, number)
    return row
