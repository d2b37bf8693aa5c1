"""Retrospective posts through the outbox: started by command, at a campaign's end, and at month and quarter end."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import outbox, retros
from bot.services.retro_posts import enqueue_parent
from jobs.context import JobContext
from jobs.delivery import AFTER_SENT, deliver_due
from storage.models import Campaign, Schedule

log = logging.getLogger(__name__)

AUTO_START_HOUR = 9


def _remember_thread(session: Session, payload: dict[str, Any], ts: str) -> None:
    retros.set_thread(session, retro_id=int(payload["retro_id"]), thread_ts=ts)


AFTER_SENT["retro_parent"] = _remember_thread


def deliver_now(ctx: JobContext, outbox_id: int | None) -> None:
    if outbox_id is not None:
        deliver_due(ctx, only=[outbox_id])


def enqueue_auto_retros(ctx: JobContext, now: datetime) -> list[str]:
    """For channels subscribed to the KPI report: a retro when a campaign ends, and at each month and quarter end."""
    local = now.astimezone(ctx.zone)
    if local.hour < AUTO_START_HOUR:
        return []
    today = local.date()
    claimed: list[str] = []
    with ctx.db.session(write=False) as session:
        subscriptions = [
            (s.workspace_id, s.slack_channel_id)
            for s in session.scalars(select(Schedule).where(Schedule.kind == "report", Schedule.active.is_(True)))
        ]
    for workspace_id, channel in dict.fromkeys(subscriptions):
        starts: list[tuple[str, str, int | None]] = []
        with ctx.db.session(write=False) as session:
            ended = session.scalars(
                select(Campaign).where(
                    Campaign.workspace_id == workspace_id,
                    Campaign.end_on < today,
                    Campaign.end_on >= today - timedelta(days=3),
                )
            ).all()
            starts += [(f"campaign:{c.id}:{channel}", "campaign", c.number) for c in ended]
        if today.day == 1 or (today - timedelta(days=1)).month != today.month or today.day <= 3:
            previous = today.replace(day=1) - timedelta(days=1)
            starts.append((f"month:{previous:%Y-%m}:{workspace_id}:{channel}", "month", None))
            if today.month in (1, 4, 7, 10):
                quarter = (previous.month - 1) // 3 + 1
                starts.append((f"quarter:{previous.year}-Q{quarter}:{workspace_id}:{channel}", "quarter", None))
        for auto_key, kind, campaign_number in starts:
            key = f"retro-auto:{auto_key}"
            with ctx.db.session() as session:
                if outbox.exists(session, dedupe_key=key):
                    continue
                retro = retros.start_retro(
                    session, workspace_id=workspace_id, channel=channel, kind=kind, today=today, user_id=None,
                    campaign_number=campaign_number, auto_key=auto_key,
                )
                if enqueue_parent(session, retro=retro, today=today, key=key, now=now) is None:
                    session.rollback()  # another scheduler claimed it first: drop our retro row too
                    continue
                claimed.append(key)
    return claimed
