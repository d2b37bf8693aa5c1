"""Retrospective posts through the outbox: the thread parent (the period's results and the prompts), started by
command, at a campaign's end, and at month and quarter end; and the closing summary in its thread.

A retro's parent is composed in the transaction that starts the retro, so the retro and its post are written
together or not at all (another scheduler that claimed the same start first keeps its own)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.posts import Draft, PostKind, Sent
from bot.render.retro import parent_post, summary_post
from bot.services import outbox, retros
from bot.services.languages import team_language
from storage.models import Campaign, Retro, Schedule

if TYPE_CHECKING:
    from jobs.context import JobContext

AUTO_START_HOUR = 9


def retro_locale(session: Session, retro: Retro) -> str:
    """A retro's posts are written in the team language of its channel."""
    return team_language(session, workspace_id=retro.workspace_id, channel=retro.slack_channel_id)


class RetroParent(PostKind):
    def compose(self, session: Session, *, retro: Retro, today: date) -> Draft:
        data = retros.results(session, retro=retro, today=today)
        locale = retro_locale(session, retro)
        return Draft.of(parent_post(retros.RetroCard.of(retro), data, today=today, locale=locale),
                        {"retro_id": retro.id, "locale": locale})


class RetroSummary(PostKind):
    def compose(self, closed: retros.Closed, *, today: date, locale: str) -> Draft:
        card, notes, tasks = closed.summary()
        return Draft.of(summary_post(card, notes, tasks, today=today, locale=locale))


def remember_thread(session: Session, sent: Sent) -> None:
    """The parent is in Slack: replies in its thread belong to the retro."""
    retros.set_thread(session, retro_id=int(sent.payload["retro_id"]), thread_ts=sent.ts)


PARENT = RetroParent("retro", record_sent=remember_thread)
SUMMARY = RetroSummary("summary")


def enqueue_parent(session: Session, *, retro: Retro, today: date, key: str | None = None, now: datetime | None = None) -> int | None:
    return PARENT.enqueue(
        session, PARENT.compose(session, retro=retro, today=today), workspace_id=retro.workspace_id,
        key=key or f"retro:{retro.id}", channel=retro.slack_channel_id, now=now,
    )


def enqueue_summary(session: Session, closed: retros.Closed, *, today: date, now: datetime | None = None) -> int | None:
    retro = closed.retro
    if not retro.thread_ts:
        return None
    return SUMMARY.enqueue(
        session, SUMMARY.compose(closed, today=today, locale=retro_locale(session, retro)), workspace_id=retro.workspace_id,
        key=f"retro-summary:{retro.id}", channel=retro.slack_channel_id, thread_ts=retro.thread_ts, now=now,
    )


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
