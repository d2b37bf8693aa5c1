"""A retrospective's posts queued in the outbox, in the transaction that started or closed it: the thread
parent (its buttons, the period's results) and the summary in the thread. Delivery (jobs) sends them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from bot.render.retro import parent_post, summary_post
from bot.services import outbox, retros
from storage.models import Retro


def enqueue_parent(session: Session, *, retro: Retro, today: date, key: str | None = None, now: datetime | None = None) -> int | None:
    data = retros.results(session, retro=retro, today=today)
    reply = parent_post(retro, data, today=today)
    return outbox.enqueue(
        session,
        workspace_id=retro.workspace_id,
        post=outbox.Post(
            dedupe_key=key or f"retro:{retro.id}",
            kind="retro",
            text=reply.text,
            blocks=reply.blocks,
            slack_channel_id=retro.slack_channel_id,
            payload={"after": "retro_parent", "retro_id": retro.id},
        ),
        now=now,
    )


def enqueue_summary(session: Session, closed: retros.Closed, *, today: date, now: datetime | None = None) -> int | None:
    retro = closed.retro
    if not retro.thread_ts:
        return None
    reply = summary_post(retro, closed.notes, closed.tasks, today=today)
    return outbox.enqueue(
        session,
        workspace_id=retro.workspace_id,
        post=outbox.Post(
            dedupe_key=f"retro-summary:{retro.id}",
            kind="summary",
            text=reply.text,
            blocks=reply.blocks,
            slack_channel_id=retro.slack_channel_id,
            thread_ts=retro.thread_ts,
        ),
        now=now,
    )
