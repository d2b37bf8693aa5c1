"""Posts asked for by hand (`/mkt digest now`): composed in a read-only session, enqueued in a short write,
then delivered at once rather than at the next tick."""

from __future__ import annotations

from bot.posts.digest import DIGEST, channel_zone
from jobs.context import JobContext
from jobs.delivery import deliver_due
from jobs.delivery.recording import DeliveryStats


def enqueue_digest_now(ctx: JobContext, *, workspace_id: str, channel: str, key: str) -> DeliveryStats | None:
    """Compose today's digest (today in the channel's zone) and deliver it now; the delivery's outcome, or None
    when this request was already handled."""
    now = ctx.clock()
    with ctx.db.session(write=False) as session:
        zone = channel_zone(session, workspace_id=workspace_id, channel=channel, default=ctx.zone)
        draft = DIGEST.compose(session, workspace_id=workspace_id, today=now.astimezone(zone).date(), channel=channel)
    with ctx.db.session() as session:
        new_id = DIGEST.enqueue(session, draft, workspace_id=workspace_id, key=key, channel=channel, now=now)
    if new_id is None:
        return None
    return deliver_due(ctx, now=now, only=[new_id])
