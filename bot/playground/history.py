"""The demo team's channel history: what the bot would have posted over the last days, as it would have posted it.

Each post is composed by its real post code for its own date (bot.posts.digest, .report, .retro), enqueued into
the outbox under the key its schedule would have claimed (`digest:<schedule>:<slot>`, `report:…`, `retro:<id>`)
and delivered by the real delivery (jobs.delivery) with the job clock and LocalSlack's clock both set back to
the moment it would have gone out: the digests' alerts follow in their threads, the report's charts are drawn
for its Monday and uploaded into its thread (the headline one into the report itself), the retrospective's
parent remembers its thread. The team's replies in that thread are the ones the demo's records were seeded
with (bot.playground.demo.retro_replies), at the same ts.

A key already in the outbox is not posted again, so seeding twice adds nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.localslack import LocalSlack
from bot.playground.demo import RETRO_CLOSE, RETRO_START, Team, local_time, retro_replies
from storage.db import Database
from storage.models import Retro, Schedule

log = logging.getLogger(__name__)

DIGEST_DAYS = 3  # the digests of the last three days


@dataclass
class History:
    """What was posted: (kind, channel, ts of the post)."""

    posts: list[tuple[str, str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.posts)


def report_day(today: date) -> date:
    """Last week's report: the Monday before today."""
    return today - timedelta(days=today.weekday() or 7)


class _Poster:
    def __init__(self, db: Database, slack: LocalSlack, client: Any, zone: str) -> None:
        self.db, self.slack, self.client, self.zone = db, slack, client, ZoneInfo(zone)

    @contextmanager
    def at(self, when: datetime) -> Iterator[Any]:
        """A job context and a local Slack whose clocks read `when`, running on from there."""
        from jobs.context import JobContext

        started = time.monotonic()

        def clock() -> datetime:
            return when + timedelta(seconds=time.monotonic() - started)

        ctx = JobContext(db=self.db, client=self.client, zone=self.zone, clock=clock, per_channel_interval=0.0,
                         worker="playground-history")
        with self.slack.backdated(when.timestamp()):
            yield ctx

    def post(self, when: datetime, enqueue: Callable[[Any], int | None]) -> str | None:
        """Enqueue (in a write session) and deliver one post at `when`, then what it left in the outbox (a
        digest's alert); the post's ts, or None when its key was in the outbox already."""
        from jobs.delivery import deliver_due
        from storage.models import Outbox

        with self.at(when) as ctx:
            with self.db.session() as session:
                new_id = enqueue(session)
            if new_id is None:
                return None
            deliver_due(ctx, now=when, only=[new_id])
            with self.db.session(write=False) as session:  # what the post queued once sent: a digest's alert
                alert = session.scalar(select(Outbox.id).where(Outbox.dedupe_key == f"digest-alert:{new_id}"))
            if alert is not None:
                deliver_due(ctx, now=ctx.clock(), only=[alert])
        with self.db.session(write=False) as session:
            row = session.get(Outbox, new_id)
            ts = row.message_ts if row is not None else None
        if not ts:
            log.warning("a demo history post (outbox %s) was not delivered", new_id)
        return ts


def seed_history(
    db: Database, slack: LocalSlack, client: Any, *, workspace_id: str, team: Team, today: date, zone: str
) -> History:
    """Post the demo team's recent history (see the module's docstring); what it posted."""
    from bot.posts.kinds import SCHEDULED
    from bot.posts.retro import PARENT, enqueue_summary
    from bot.services import retros
    from jobs.tick import slot_key

    poster = _Poster(db, slack, client, zone)
    history = History()

    # the festival's retrospective: its parent, the team's replies, the summary once it was closed
    with db.session(write=False) as session:
        retro = session.scalars(
            select(Retro).where(Retro.workspace_id == workspace_id, Retro.kind == "campaign").order_by(Retro.number)
        ).first()
        retro_id = retro.id if retro is not None else None
        retro_day = retro.period_end + timedelta(days=3) if retro is not None else None
    if retro_id is not None and retro_day is not None:
        retro_day = min(retro_day, today - timedelta(days=1))

        def enqueue_parent(session: Any) -> int | None:
            row = session.get(Retro, retro_id)
            return PARENT.enqueue(session, PARENT.compose(session, retro=row, today=retro_day), workspace_id=workspace_id,
                                  key=f"retro:{row.id}", channel=row.slack_channel_id,
                                  now=local_time(retro_day, RETRO_START, zone))

        parent_ts = poster.post(local_time(retro_day, RETRO_START, zone), enqueue_parent)
        if parent_ts is not None:
            history.posts.append(("retro", team.retro_channel, parent_ts))
            for reply in retro_replies(team, retro_day=retro_day, today=today, zone=zone):
                slack.post_user_message(team.retro_channel, reply.user, reply.text, thread_ts=parent_ts, deliver=False,
                                        ts=reply.ts)
            closed_at = local_time(retro_day, RETRO_CLOSE, zone)

            def enqueue_closing(session: Any) -> int | None:
                row = session.get(Retro, retro_id)
                closed = retros.close_retro(session, workspace_id=workspace_id, number=row.number, user_id=team.ana)
                return enqueue_summary(session, closed, today=retro_day, now=closed_at)

            summary_ts = poster.post(closed_at, enqueue_closing)
            if summary_ts is not None:
                history.posts.append(("summary", team.retro_channel, summary_ts))

    # the scheduled posts: last week's report, then the last days' digests, each at its schedule's slot
    with db.session(write=False) as session:
        schedules = [
            (s.id, s.kind, s.slack_channel_id, s.hour, s.minute)
            for s in session.scalars(
                select(Schedule).where(Schedule.workspace_id == workspace_id, Schedule.active.is_(True)).order_by(Schedule.id)
            )
        ]
    slots: list[tuple[datetime, int, str, str, date]] = []
    for schedule_id, kind, channel, hour, minute in schedules:
        days = [report_day(today)] if kind == "report" else [today - timedelta(days=n) for n in range(DIGEST_DAYS, 0, -1)]
        slots += [(local_time(day, (hour, minute), zone), schedule_id, kind, channel, day) for day in days]
    for slot, schedule_id, kind, channel, day in sorted(slots):
        post = SCHEDULED.get(kind)
        if post is None:
            continue

        def enqueue_slot(session: Any, post: Any = post, schedule_id: int = schedule_id, kind: str = kind,
                         channel: str = channel, day: date = day, slot: datetime = slot) -> int | None:
            draft = post.compose(session, workspace_id=workspace_id, today=day, channel=channel)
            new_id: int | None = post.enqueue(session, draft, workspace_id=workspace_id, key=slot_key(kind, schedule_id, slot),
                                              channel=channel, now=slot, payload={"schedule_id": schedule_id})
            row = session.get(Schedule, schedule_id)
            if row is not None and (row.last_slot is None or slot > row.last_slot):
                row.last_slot = slot
            return new_id

        ts = poster.post(slot, enqueue_slot)
        if ts is not None:
            history.posts.append((kind, channel, ts))
    return history
