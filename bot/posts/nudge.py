"""The KPI watchdog: a direct message to whoever usually logs a metric on a channel when yesterday's value is
missing, so the digest's comparisons are not made on partial data day after day.

A (metric, channel) "usually logs" when it has values on at least USUAL_SHARE of the LOOKBACK days before
yesterday. Its logger is the person who logged it most often in that window. Each person gets one message a
day, listing every series of theirs missing yesterday (key `nudge:<workspace>:<user>:<day>`), at NUDGE_AT_HOUR
or later in their own Slack time zone (their yesterday), after the morning digest has shown the gap."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.i18n import EN, t
from bot.posts import Draft, PostKind
from bot.posts.zones import owner_zones
from bot.render.reply import Builder
from bot.services import outbox
from bot.slack_text import esc
from storage.models import KpiValue, Metric

if TYPE_CHECKING:
    from jobs.context import JobContext

NUDGE_AT_HOUR = 10
LOOKBACK = 14
USAGE_SHARE_NUM, USAGE_SHARE_DEN = 4, 5  # on at least 4 in 5 of the lookback days
MAX_LINES = 15


@dataclass(frozen=True)
class Missing:
    workspace_id: str
    user_id: str
    metric: str
    channel: str


def missing_yesterday(session: Session, *, today: date) -> list[Missing]:
    """Every usual (metric, channel) with no value yesterday, with the person who usually logs it."""
    yesterday = today - timedelta(days=1)
    first = yesterday - timedelta(days=LOOKBACK)
    rows = session.execute(
        select(KpiValue.workspace_id, KpiValue.metric_id, func.lower(KpiValue.channel), KpiValue.channel,
               KpiValue.day, KpiValue.user_id)
        .where(KpiValue.day >= first, KpiValue.day <= yesterday)
    ).all()
    days: dict[tuple[str, int, str], set[date]] = defaultdict(set)
    loggers: dict[tuple[str, int, str], Counter[str]] = defaultdict(Counter)
    names: dict[tuple[str, int, str], str] = {}
    for workspace_id, metric_id, key, channel, day, user_id in rows:
        series = (workspace_id, metric_id, key)
        days[series].add(day)
        names.setdefault(series, channel)
        if user_id and day < yesterday:
            loggers[series][user_id] += 1
    metric_names = dict(session.execute(select(Metric.id, Metric.name)).all()) if days else {}
    out = []
    for series, seen in days.items():
        if yesterday in seen or not loggers[series]:
            continue
        before = len([d for d in seen if d < yesterday])
        if before * USAGE_SHARE_DEN < USAGE_SHARE_NUM * LOOKBACK:
            continue
        workspace_id, metric_id, _ = series
        user = loggers[series].most_common(1)[0][0]
        out.append(Missing(workspace_id, user, str(metric_names.get(metric_id, "?")), names[series]))
    return sorted(out, key=lambda m: (m.workspace_id, m.user_id, m.metric, m.channel))


class NudgePost(PostKind):
    def compose(self, missing: list[Missing], *, day: date, locale: str = EN) -> Draft:
        lines = [
            t("nudge.line", locale, metric=esc(m.metric), channel=esc(m.channel) or t("kpi.no_channel", locale))
            for m in missing[:MAX_LINES]
        ]
        example = missing[0]
        channel = f" channel:{example.channel}" if example.channel else ""
        reply = (
            Builder()
            .section(t("nudge.head", locale, day=day.isoformat()))
            .lines_section(lines)
            .context(t("nudge.how", locale, metric=esc(example.metric), channel=esc(channel)))
            .build(text=t("nudge.plain", locale, count=len(missing), day=day.isoformat()))
        )
        return Draft.of(reply)


NUDGE = NudgePost("nudge")


#: (database, day) -> every usual series missing the day before, as first scanned: the superset of what is missing
#: later that day (values only get filled in), so each day's full scan runs once, plus once more for each group
#: of people whose 10:00 has come (to leave out what they have filled in since)
_first_scan: dict[tuple[int, date], list[Missing]] = {}
#: (database, day, workspace, user) already handled
_done: set[tuple[int, date, str, str]] = set()


def nudge_key(m: Missing, yesterday: date) -> str:
    return f"nudge:{m.workspace_id}:{m.user_id}:{yesterday.isoformat()}"


def enqueue_nudges(ctx: JobContext, now: datetime) -> list[str]:
    """Each usual logger's nudge, at 10:00 or later in their own Slack time zone (bot.posts.zones), about the day
    before their own today."""
    engine = id(ctx.db.engine)
    utc_today = now.astimezone(UTC).date()
    days = [utc_today + timedelta(days=d) for d in (-1, 0, 1)]  # every local date on Earth at this moment
    for stale in [k for k in _first_scan if k[0] == engine and k[1] < days[0]]:
        del _first_scan[stale]
    _done.difference_update({k for k in _done if k[0] == engine and k[1] < days[0]})
    with ctx.db.session(write=False) as session:
        for day in days:
            if (engine, day) not in _first_scan:
                _first_scan[(engine, day)] = missing_yesterday(session, today=day)
    people = {(m.workspace_id, m.user_id) for day in days for m in _first_scan[(engine, day)]
              if (engine, day, m.workspace_id, m.user_id) not in _done}
    if not people:
        return []
    zones = owner_zones(ctx, people, now=now)
    ready: dict[date, set[tuple[str, str]]] = defaultdict(set)  # their today -> people whose 10:00 has come
    for person in people:
        local = now.astimezone(zones[person])
        if local.hour >= NUDGE_AT_HOUR and (engine, local.date(), *person) not in _done:
            ready[local.date()].add(person)
    by_person: dict[tuple[str, str, date], list[Missing]] = defaultdict(list)
    with ctx.db.session(write=False) as session:
        for today, group in ready.items():
            if today not in days:
                continue
            yesterday = today - timedelta(days=1)
            for m in missing_yesterday(session, today=today):  # again: some may have been filled in since
                if (m.workspace_id, m.user_id) in group and not outbox.exists(session, dedupe_key=nudge_key(m, yesterday)):
                    by_person[(m.workspace_id, m.user_id, yesterday)].append(m)
    # each person's language (users.info, cached) with no transaction open: it may wait on Slack
    drafts = [
        (workspace_id, user_id, yesterday,
         NUDGE.compose(items, day=yesterday, locale=ctx.locales.resolve(ctx.client, ctx.db, workspace_id, user_id)))
        for (workspace_id, user_id, yesterday), items in by_person.items()
    ]
    claimed: list[str] = []
    with ctx.db.session() as session:
        for workspace_id, user_id, yesterday, draft in drafts:
            key = nudge_key(Missing(workspace_id, user_id, "", ""), yesterday)
            if NUDGE.enqueue(session, draft, workspace_id=workspace_id, key=key, user_id=user_id, now=now) is not None:
                claimed.append(key)
    for today, group in ready.items():
        _done.update((engine, today, w, u) for w, u in group)
    return claimed
