"""The KPI watchdog: a direct message to whoever usually logs a metric on a channel when yesterday's value is
missing, so the digest's comparisons are not made on partial data day after day.

A (metric, channel) "usually logs" when it has values on at least USUAL_SHARE of the LOOKBACK days before
yesterday. Its logger is the person who logged it most often in that window. Each person gets one message a
day, listing every series of theirs missing yesterday (key `nudge:<workspace>:<user>:<day>`), at NUDGE_AT_HOUR
local time, after the morning digest has shown the gap."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.i18n import EN, t
from bot.posts import Draft, PostKind
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


#: (database, day) already scanned by this process: the scan runs once a day, not on every tick
_scanned: set[tuple[int, date]] = set()


def enqueue_nudges(ctx: JobContext, now: datetime) -> list[str]:
    local = now.astimezone(ctx.zone)
    if local.hour < NUDGE_AT_HOUR:
        return []
    today = local.date()
    yesterday = today - timedelta(days=1)
    if (id(ctx.db.engine), today) in _scanned:
        return []
    with ctx.db.session(write=False) as session:
        missing = missing_yesterday(session, today=today)
        by_person: dict[tuple[str, str], list[Missing]] = defaultdict(list)
        for m in missing:
            key = f"nudge:{m.workspace_id}:{m.user_id}:{yesterday.isoformat()}"
            if not outbox.exists(session, dedupe_key=key):
                by_person[(m.workspace_id, m.user_id)].append(m)
    # each person's language (users.info, cached) with no transaction open: it may wait on Slack
    drafts = [
        (workspace_id, user_id, NUDGE.compose(items, day=yesterday,
                                              locale=ctx.locales.resolve(ctx.client, ctx.db, workspace_id, user_id)))
        for (workspace_id, user_id), items in by_person.items()
    ]
    claimed: list[str] = []
    with ctx.db.session() as session:
        for workspace_id, user_id, draft in drafts:
            key = f"nudge:{workspace_id}:{user_id}:{yesterday.isoformat()}"
            if NUDGE.enqueue(session, draft, workspace_id=workspace_id, key=key, user_id=user_id, now=now) is not None:
                claimed.append(key)
    _scanned.add((id(ctx.db.engine), today))
    return claimed
