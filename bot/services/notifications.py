"""What others do to a person's work, recorded for telling them: a task assigned to them, handed away from them,
started, done, blocked, reopened, moved or renamed; a goal of theirs edited, closed or checked in on; a campaign
they own closed. Nobody is told of their own actions.

An event is written in the transaction of the change itself (`record`), so a change that rolls back tells
nobody and one that commits is never lost. The scheduler turns a person's pending events into one direct
message once they have been quiet for a while (bot/posts/notify.py): `pending`, then `claim` in the transaction
that enqueues it. `/mkt notify off` turns them off for one person in one workspace (`set_enabled`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bot.services.refs import ensure_workspace
from storage.models import NotificationEvent, NotificationSetting
from storage.prepared import Prepared, Unit, column_binds

TASK, GOAL, CAMPAIGN = "task", "goal", "campaign"
# kinds of event
ASSIGNED = "assigned"  # a task is theirs now
UNASSIGNED = "unassigned"  # a task of theirs was handed to someone else (detail: to)
STATUS = "status"  # detail: status (todo | in_progress | blocked | done), reason
DUE = "due"  # detail: due (ISO date), snoozed
TITLE = "title"  # detail: title
EDITED = "edited"  # a goal's figures or dates changed (detail: what)
CLOSED = "closed"  # a goal or campaign
CHECKIN = "checkin"  # detail: value (a decimal as text), confidence

_INSERT = Prepared(insert(NotificationEvent).values(column_binds(NotificationEvent)))


@dataclass(frozen=True)
class Actor:
    """Who made a change, and when on the bot's clock: the time a batch's quiet window is measured from."""

    user_id: str
    at: datetime


def record(
    unit: Unit, *, workspace_id: str, user_id: str | None, by: Actor | None, subject: str, number: int, kind: str,
    detail: dict[str, Any] | None = None,
) -> bool:
    """Record that `by` did `kind` to `user_id`'s record, in the change's own transaction (a Session or a bare
    Database.transaction). Nothing when nobody did it (a seed, a migration), when it has no person, or when the
    person did it themselves."""
    if by is None or not user_id or user_id == by.user_id:
        return False
    _INSERT.rows(unit, {
        "workspace_id": workspace_id, "user_id": user_id, "actor_id": by.user_id, "subject": subject,
        "number": number, "kind": kind, "detail": json.dumps(detail, ensure_ascii=False) if detail else None,
        "created_at": by.at, "batch_key": None,
    })
    return True


# ---- each person's choice ------------------------------------------------------------------------------------

def is_enabled(session: Session, *, workspace_id: str, user_id: str) -> bool:
    row = session.get(NotificationSetting, (workspace_id, user_id))
    return row is None or row.enabled


def disabled(session: Session, people: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of (workspace, user) turned notifications off."""
    wanted = set(people)
    out: set[tuple[str, str]] = set()
    for workspace_id in {w for w, _ in wanted}:
        users = [u for w, u in wanted if w == workspace_id]
        out.update((workspace_id, u) for u in session.scalars(
            select(NotificationSetting.user_id).where(NotificationSetting.workspace_id == workspace_id,
                                                      NotificationSetting.user_id.in_(users),
                                                      NotificationSetting.enabled.is_(False))))
    return out


def set_enabled(session: Session, *, workspace_id: str, user_id: str, enabled: bool, now: datetime) -> bool:
    """Turn one person's notifications on or off; whether that changed anything."""
    ensure_workspace(session, workspace_id)
    row = session.get(NotificationSetting, (workspace_id, user_id), with_for_update=True)
    if row is None:
        session.add(NotificationSetting(workspace_id=workspace_id, user_id=user_id, enabled=enabled, set_at=now))
        session.flush()
        return not enabled  # no row was "on"
    if row.enabled == enabled:
        return False
    row.enabled, row.set_at = enabled, now
    return True


# ---- pending events, batched per person ----------------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    id: int
    actor_id: str
    subject: str
    number: int
    kind: str
    detail: dict[str, Any]
    created_at: datetime


@dataclass
class Batch:
    """One person's pending events in one workspace, oldest first."""

    workspace_id: str
    user_id: str
    events: list[Event] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The outbox key of the one message these events become: named by its first event, which only one
        batch can ever claim."""
        return f"notify:{self.workspace_id}:{self.user_id}:{self.events[0].id}"


def pending(session: Session, *, limit: int = 5000) -> list[Batch]:
    """Every person's events not yet told (nor dropped), per person, oldest first."""
    rows = session.scalars(
        select(NotificationEvent).where(NotificationEvent.batch_key.is_(None)).order_by(NotificationEvent.id).limit(limit)
    ).all()
    batches: dict[tuple[str, str], Batch] = {}
    for row in rows:
        batch = batches.setdefault((row.workspace_id, row.user_id), Batch(row.workspace_id, row.user_id))
        batch.events.append(Event(row.id, row.actor_id, row.subject, row.number, row.kind,
                                  json.loads(row.detail) if row.detail else {}, row.created_at))
    return list(batches.values())


class Taken(Exception):
    """Another scheduler claimed some of these events first: this transaction must not go on."""


def claim(session: Session, batch: Batch, *, key: str) -> None:
    """Mark the batch's events as carried by `key` (or dropped), all of them or none: raises Taken when another
    scheduler got there first, so the caller's transaction rolls back and enqueues nothing."""
    ids = [e.id for e in batch.events]
    result = session.execute(
        update(NotificationEvent)
        .where(NotificationEvent.id.in_(ids), NotificationEvent.batch_key.is_(None))
        .values(batch_key=key)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", len(ids)) != len(ids):
        raise Taken(key)
