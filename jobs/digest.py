"""The daily digest: what is due, overdue and blocked; how goals pace; yesterday's KPIs; campaigns; open retros."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.render.reply import Reply
from bot.services import outbox
from jobs.context import JobContext
from jobs.delivery import DeliveryStats, deliver_due
from storage.models import Schedule


def compose_digest(session: Session, *, workspace_id: str, today: date) -> Reply:
    from bot.render.digest import digest_reply
    from bot.services.digest import collect

    return digest_reply(collect(session, workspace_id=workspace_id, today=today), today=today)


def channel_zone(session: Session, *, workspace_id: str, channel: str, default: ZoneInfo) -> ZoneInfo:
    """The zone of the channel's digest schedule (its team's day), else the bot's default zone."""
    zone = session.scalar(
        select(Schedule.timezone)
        .where(Schedule.workspace_id == workspace_id, Schedule.slack_channel_id == channel, Schedule.active.is_(True))
        .order_by(Schedule.kind != "digest", Schedule.id)
        .limit(1)
    )
    try:
        return ZoneInfo(zone) if zone else default
    except (ZoneInfoNotFoundError, ValueError):
        return default


def enqueue_digest_now(ctx: JobContext, *, workspace_id: str, channel: str, key: str) -> DeliveryStats | None:
    """Compose today's digest (today in the channel's zone) and deliver it now; the delivery's outcome, or None
    when this request was already handled."""
    now = ctx.clock()
    with ctx.db.session() as session:
        zone = channel_zone(session, workspace_id=workspace_id, channel=channel, default=ctx.zone)
        today = now.astimezone(zone).date()
        reply = compose_digest(session, workspace_id=workspace_id, today=today)
        new_id = outbox.enqueue(
            session,
            workspace_id=workspace_id,
            post=outbox.Post(dedupe_key=key, kind="digest", text=reply.text, blocks=reply.blocks, slack_channel_id=channel),
            now=now,
        )
    if new_id is None:
        return None
    return deliver_due(ctx, now=now, only=[new_id])
