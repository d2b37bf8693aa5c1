"""Short per-workspace references (T-12, G-3, …): allocation and lookup."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session

from bot.errors import NotFound, UserError
from bot.i18n import msg
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


#: the records a team names in commands (`campaign:"Double 11"`, `goal:"Q4 GMV"`), and the column holding the name
NAMED: dict[str, tuple[Any, Any]] = {"campaign": (Campaign, Campaign.name), "goal": (Goal, Goal.title)}
MAX_CANDIDATES = 8


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def number_by_name(session: Session, *, workspace_id: str, kind: str, name: str) -> int:
    """The number of the campaign or goal called `name`, case-insensitively: an exact name, else a unique prefix of
    one. Several exact names, or a prefix of several, are refused with the candidates; nothing found says so."""
    model, column = NAMED[kind]
    rows = session.execute(
        select(model.number, column, model.status).where(model.workspace_id == workspace_id).order_by(model.number)
    ).all()
    wanted = _name_key(name)
    exact = [row for row in rows if _name_key(row[1]) == wanted]
    found = exact or [row for row in rows if _name_key(row[1]).startswith(wanted)]
    if len(found) == 1:
        return int(found[0][0])
    noun = msg(f"error.parse.noun.{kind}")
    if not found:
        raise NotFound.of("error.ref.no_name", name=name, noun=noun, example=ref(kind, 2), command=f"/{kind} list")
    shown = [f"{ref(kind, number)} {title}" for number, title, _status in found[:MAX_CANDIDATES]]
    if len(found) > MAX_CANDIDATES:
        shown.append("…")
    raise UserError.of("error.ref.ambiguous", name=name, noun=noun, candidates=shown, example=ref(kind, found[0][0]))
