"""The daily digest: what is due, overdue and blocked; how goals pace; yesterday's KPIs; campaigns; open retros.

Composed in a read-only session (bot.services.digest collects plain data, bot.render.digest renders it), so a
digest being composed holds no write lock: a `/task add` meanwhile is not kept waiting behind it."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.posts import Draft, PostKind, Sent
from bot.render.digest import alert_reply, digest_reply
from bot.services.digest import collect
from bot.services.languages import team_language
from storage.models import Schedule


class DigestPost(PostKind):
    def compose(self, session: Session, *, workspace_id: str, today: date, channel: str | None = None) -> Draft:
        """The digest and its alert, written in the team language of `channel` (bot.services.languages)."""
        locale = team_language(session, workspace_id=workspace_id, channel=channel)
        data = collect(session, workspace_id=workspace_id, today=today)
        alert = alert_reply(data.kpis, today, locale)
        payload: dict[str, object] = {"locale": locale}
        if alert is not None:
            payload["alert"] = {"text": alert.text, "blocks": alert.blocks}
        return Draft.of(digest_reply(data, today=today, locale=locale), payload)


def queue_alert(session: Session, sent: Sent) -> None:
    """The digest is in Slack: its unusual KPIs go into its thread, once (keyed by the digest's outbox id)."""
    alert = sent.payload.get("alert")
    if not alert or not sent.channel:
        return
    ALERT.enqueue(
        session, Draft(text=str(alert["text"]), blocks=alert.get("blocks")), workspace_id=sent.workspace_id,
        key=f"digest-alert:{sent.outbox_id}", channel=sent.channel, thread_ts=sent.ts, now=sent.at,
    )


DIGEST = DigestPost("digest", record_sent=queue_alert)
ALERT = PostKind("alert")


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
