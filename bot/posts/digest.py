"""The daily digest: what is due, overdue and blocked; how goals pace; yesterday's KPIs; campaigns; open retros.

Composed in a read-only session (bot.services.digest collects plain data, bot.render.digest renders it), so a
digest being composed holds no write lock: a `/task add` meanwhile is not kept waiting behind it."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.posts import Draft, PostKind
from bot.render.digest import digest_reply
from bot.services.digest import collect
from storage.models import Schedule


class DigestPost(PostKind):
    def compose(self, session: Session, *, workspace_id: str, today: date) -> Draft:
        return Draft.of(digest_reply(collect(session, workspace_id=workspace_id, today=today), today=today))


DIGEST = DigestPost("digest")


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
