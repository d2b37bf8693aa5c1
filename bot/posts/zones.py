"""Each person's own Slack time zone, for the direct messages that come at a local hour (reminders at 09:00, the
KPI watchdog at 10:00, check-in nudges at 09:00): users.info `tz`, looked up by the scheduler with no transaction
open and kept in user_zones for a week (an hour after a failed lookup); the workspace's zone when Slack does not
say."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from storage.models import UserZone
from storage.prepared import column_binds, dialect_of, per_dialect

if TYPE_CHECKING:
    from jobs.context import JobContext

log = logging.getLogger(__name__)

ZONE_TTL = timedelta(days=7)  # people rarely move; a week-old answer is fine
ZONE_MISS_TTL = timedelta(hours=1)  # after a failed lookup, try again within the hour

Owner = tuple[str, str]  # (workspace id, user id)

_UPSERT_ZONE = per_dialect(
    lambda insert: insert(UserZone)
    .values(column_binds(UserZone))
    .on_conflict_do_update(
        index_elements=[UserZone.workspace_id, UserZone.user_id],
        set_={"tz": bindparam("tz"), "checked_at": bindparam("checked_at")},
    )
)


def cached_zones(session: Session, owners: set[Owner], *, now: datetime) -> tuple[dict[Owner, str | None], set[Owner]]:
    """The zones on record for `owners`, and the owners to look up again (never asked, or asked too long ago)."""
    known: dict[Owner, str | None] = {}
    stale = set(owners)
    for workspace_id in {w for w, _ in owners}:
        users = [u for w, u in owners if w == workspace_id]
        for row in session.scalars(select(UserZone).where(UserZone.workspace_id == workspace_id,
                                                          UserZone.user_id.in_(users))):
            owner = (row.workspace_id, row.user_id)
            known[owner] = row.tz
            if now - row.checked_at < (ZONE_TTL if row.tz else ZONE_MISS_TTL):
                stale.discard(owner)
    return known, stale


def fetch_zone(client: WebClient, user_id: str) -> str | None:
    """users.info's `tz` for one person (None when Slack does not say or the lookup fails)."""
    try:
        response: Any = client.users_info(user=user_id)
    except Exception:  # a slow or failing Slack must not stop the other reminders
        log.warning("users.info for %s failed; using the workspace time zone", user_id, exc_info=True)
        return None
    name = (response.get("user") or {}).get("tz")
    return name if isinstance(name, str) and _zone(name) is not None else None


def _zone(name: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def owner_zones(ctx: JobContext, owners: set[Owner], *, now: datetime) -> dict[Owner, ZoneInfo]:
    """Each owner's zone: from the cache, looked up on Slack (no transaction open) when stale, else the workspace's."""
    if not owners:
        return {}
    with ctx.db.session(write=False) as session:
        known, stale = cached_zones(session, owners, now=now)
    if stale:
        fetched = {owner: fetch_zone(ctx.client, owner[1]) for owner in sorted(stale)}
        with ctx.db.session() as session:
            _UPSERT_ZONE[dialect_of(session).name].many(session, [
                {"workspace_id": w, "user_id": u, "tz": tz or known.get((w, u)), "checked_at": now}
                for (w, u), tz in fetched.items()
            ])
        known.update({owner: tz for owner, tz in fetched.items() if tz})
    return {owner: _zone(known.get(owner)) or ctx.zone for owner in owners}
