"""Claiming due posts from the outbox, and the claimed post (Item) that the rest of delivery works on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.services import outbox as service

if TYPE_CHECKING:
    from jobs.context import JobContext

AMBIGUOUS = service.AMBIGUOUS


@dataclass(frozen=True)
class Item:
    id: int
    workspace_id: str
    kind: str
    channel: str | None
    user_id: str | None
    thread_ts: str | None
    text: str
    blocks: list[dict[str, Any]] | None
    payload: dict[str, Any]
    attempts: int
    last_error: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: Any) -> Item:
        """From an Outbox row or a claimed row (anything with the outbox columns as attributes)."""
        return cls(
            id=row.id,
            workspace_id=row.workspace_id,
            kind=row.kind,
            channel=row.slack_channel_id,
            user_id=row.user_id,
            thread_ts=row.thread_ts,
            text=row.text,
            blocks=json.loads(row.blocks) if row.blocks else None,
            payload=json.loads(row.payload) if row.payload else {},
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
        )

    @property
    def ambiguous(self) -> bool:
        return bool(self.last_error and self.last_error.startswith(AMBIGUOUS))


def claim(ctx: JobContext, now: datetime, limit: int, only: list[int] | None) -> list[Item]:
    """Lease up to `limit` due posts (only those of `only`, when given) to this worker."""
    with ctx.db.session() if only is not None else ctx.db.transaction() as unit:
        return [Item.of(row) for row in service.claim_due(unit, now=now, worker=ctx.worker, limit=limit, ids=only)]
