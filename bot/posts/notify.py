"""Direct messages about a person's own work: what others changed on it, batched, and a weekly nudge to check in
on a goal that has gone quiet.

- **Changes** (kind `notify`): the events bot.services.notifications records are turned, per person and
  workspace, into one DM once that person's pending events have been quiet for QUIET (three quick edits make one
  message), or once the oldest has waited LONGEST (a steady stream still gets told). The DM is in the person's
  Slack language, says what changed and by whom, and carries each task's buttons (Start · Done · Block… ·
  Snooze) while it is still theirs. Key `notify:<workspace>:<user>:<first event id>`: the events are claimed in
  the transaction that enqueues it, so a batch is told once however many schedulers run.
- **Check-in nudge** (kind `checkin_nudge`): the owner of an open goal with no check-in and no KPI value logged
  on its metric (on its channel, when it has one) for QUIET_DAYS gets one DM a week about it, at
  NUDGE_AT_HOUR or later in their own time zone, with the check-in button. Key
  `checkin-nudge:<goal id>:<ISO year>-W<week>`.

`/mkt notify off` stops both for that person (events are then dropped, not kept for later)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.i18n import EN, t
from bot.i18n.fmt import fmt_date, fmt_number, mention
from bot.posts import Draft, PostKind
from bot.posts.zones import owner_zones
from bot.render.reply import Builder
from bot.render.views import goal_actions_block, mark_locale, task_actions_block
from bot.services import channels, notifications, outbox
from bot.services.notifications import Batch, Event
from bot.slack_text import esc
from storage.models import Campaign, Goal, GoalCheckin, KpiValue, Metric, Task

if TYPE_CHECKING:
    from jobs.context import JobContext

log = logging.getLogger(__name__)

QUIET = timedelta(minutes=2)  # a person's changes are told once nothing new came for this long…
LONGEST = timedelta(minutes=15)  # …or once the oldest has waited this long
MAX_SUBJECTS = 12  # records listed in one message (each may carry its buttons); the rest are counted
NUDGE_AT_HOUR = 9
QUIET_DAYS = 7


# ---- the records as they are now -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Subject:
    """A task, goal or campaign named by an event, as it stands when the message is composed."""

    kind: str
    number: int
    title: str
    owner_id: str | None = None
    status: str = ""
    due_on: date | None = None
    unit: str | None = None  # a goal's metric's


Subjects = dict[tuple[str, str, int], Subject]  # (workspace, kind, number)


def read_subjects(session: Session, batches: list[Batch]) -> Subjects:
    wanted: dict[tuple[str, str], set[int]] = {}
    for batch in batches:
        for event in batch.events:
            wanted.setdefault((batch.workspace_id, event.subject), set()).add(event.number)
    out: Subjects = {}
    for (workspace_id, kind), numbers in wanted.items():
        if kind == notifications.TASK:
            for task in session.scalars(select(Task).where(Task.workspace_id == workspace_id, Task.number.in_(numbers))):
                out[(workspace_id, kind, task.number)] = Subject(kind, task.number, task.title, task.owner_id, task.status,
                                                                 task.due_on)
        elif kind == notifications.GOAL:
            for goal, unit in session.execute(select(Goal, Metric.unit).join(Metric, Metric.id == Goal.metric_id)
                                              .where(Goal.workspace_id == workspace_id, Goal.number.in_(numbers))):
                out[(workspace_id, kind, goal.number)] = Subject(kind, goal.number, goal.title, goal.owner_id, goal.status,
                                                                 goal.due_on, unit)
        elif kind == notifications.CAMPAIGN:
            for campaign in session.scalars(select(Campaign).where(Campaign.workspace_id == workspace_id,
                                                                   Campaign.number.in_(numbers))):
                out[(workspace_id, kind, campaign.number)] = Subject(kind, campaign.number, campaign.name,
                                                                     campaign.created_by, campaign.status)
    return out


# ---- composing ------------------------------------------------------------------------------------------------

_PREFIX = {notifications.TASK: "T", notifications.GOAL: "G", notifications.CAMPAIGN: "C"}


def collapse(events: list[Event]) -> list[Event]:
    """Events in order, a record's repeated change of one kind kept once, at its latest (a due date moved three
    times is told once, at where it ended)."""
    latest: dict[tuple[str, int, str], Event] = {}
    for event in events:
        latest[(event.subject, event.number, event.kind)] = event
    return sorted(latest.values(), key=lambda e: e.id)


def _value(raw: Any, unit: str | None, locale: str) -> str:
    try:
        return fmt_number(Decimal(str(raw)), unit, locale)
    except (InvalidOperation, ValueError):
        return esc(str(raw))


def event_line(event: Event, subject: Subject, *, today: date, locale: str) -> str:
    """One change, in the reader's language: who did what to which record."""
    actor = mention(event.actor_id, locale)
    ref, title = f"{_PREFIX.get(event.subject, '?')}-{event.number}", esc(subject.title)
    detail = event.detail
    fields: dict[str, Any] = {"actor": actor, "ref": ref, "title": title}
    key = f"notify.{event.subject}.{event.kind}"
    if event.subject == notifications.TASK and event.kind == notifications.ASSIGNED:
        fields["due"] = t("notify.due_suffix", locale, when=fmt_date(subject.due_on, today, locale)) if subject.due_on else ""
    elif event.kind == notifications.UNASSIGNED:
        fields["to"] = mention(str(detail.get("to") or "") or None, locale)
    elif event.kind == notifications.STATUS:
        key = f"notify.task.status.{detail.get('status')}"
        fields["reason"] = esc(str(detail.get("reason") or ""))
    elif event.kind == notifications.DUE:
        key = "notify.task.snoozed" if detail.get("snoozed") else "notify.task.due"
        fields["when"] = fmt_date(date.fromisoformat(str(detail.get("due"))), today, locale)
    elif event.kind == notifications.TITLE:
        fields["before"] = esc(str(detail.get("before") or ""))
    elif event.kind == notifications.CHECKIN:
        fields["value"] = _value(detail.get("value"), subject.unit, locale)
    return t(key, locale, **fields)


class NotifyPost(PostKind):
    def compose(self, batch: Batch, subjects: Subjects, *, today: date, locale: str = EN) -> Draft | None:
        """One message for the batch: per record its changes, and a task's buttons while it is still theirs.
        None when nothing in it can be told any more (its records are gone)."""
        grouped: dict[tuple[str, int], list[str]] = {}
        for event in collapse(batch.events):
            subject = subjects.get((batch.workspace_id, event.subject, event.number))
            if subject is None:
                continue
            grouped.setdefault((event.subject, event.number), []).append(event_line(event, subject, today=today,
                                                                                    locale=locale))
        if not grouped:
            return None
        count = sum(len(lines) for lines in grouped.values())
        builder = Builder().section(t("notify.head", locale))
        actions: dict[int, dict[str, Any]] = {}  # block index -> the task's buttons after it
        for index, ((kind, number), lines) in enumerate(grouped.items()):
            if index == MAX_SUBJECTS:
                builder.context(t("notify.more", locale, n=len(grouped) - MAX_SUBJECTS))
                break
            builder.section("\n".join(lines))
            subject = subjects[(batch.workspace_id, kind, number)]
            if kind == notifications.TASK and subject.owner_id == batch.user_id:
                block = task_actions_block(number, subject.status, subject.due_on, locale=locale)
                if block is not None:
                    actions[len(builder.blocks) - 1] = block
        builder.context(t("notify.off_hint", locale))
        first = next(iter(grouped.values()))[0]
        reply = builder.build(text=t("notify.plain", locale, n=count, first=first))
        blocks: list[dict[str, Any]] = []
        for index, block in enumerate(reply.blocks):
            blocks.append(block)
            if index in actions:
                blocks.append(actions[index])
        return Draft(text=reply.text, blocks=mark_locale(blocks, locale))  # a click redraws it in this language


NOTIFY = NotifyPost("notify")


def enqueue_notifications(ctx: JobContext, now: datetime) -> list[str]:
    """Each person's changes that have gone quiet, as one DM each (or dropped when they turned them off)."""
    with ctx.db.session(write=False) as session:
        batches = [b for b in notifications.pending(session)
                   if now - b.events[-1].created_at >= QUIET or now - b.events[0].created_at >= LONGEST]
        if not batches:
            return []
        off = notifications.disabled(session, {(b.workspace_id, b.user_id) for b in batches})
        subjects = read_subjects(session, [b for b in batches if (b.workspace_id, b.user_id) not in off])
    told = [b for b in batches if (b.workspace_id, b.user_id) not in off]
    zones = owner_zones(ctx, {(b.workspace_id, b.user_id) for b in told}, now=now)
    # each person's language (users.info, cached) with no transaction open: it may wait on Slack
    drafts: dict[str, Draft | None] = {}
    for batch in told:
        locale = ctx.locales.resolve(ctx.client, ctx.db, batch.workspace_id, batch.user_id)
        today = now.astimezone(zones[(batch.workspace_id, batch.user_id)]).date()
        drafts[batch.key] = NOTIFY.compose(batch, subjects, today=today, locale=locale)
    claimed: list[str] = []
    for batch in batches:
        draft = drafts.get(batch.key)
        key = batch.key if draft is not None else f"off:{batch.key}"
        try:
            with ctx.db.session() as session:
                notifications.claim(session, batch, key=key)
                if draft is not None and NOTIFY.enqueue(session, draft, workspace_id=batch.workspace_id, key=key,
                                                        user_id=batch.user_id, now=now) is not None:
                    claimed.append(key)
        except notifications.Taken:
            log.info("another scheduler told %s first", batch.key)
    return claimed


# ---- the weekly check-in nudge --------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuietGoal:
    id: int
    workspace_id: str
    owner_id: str
    number: int
    title: str
    metric: str
    since: datetime  # the last check-in, KPI value or the goal's creation


class CheckinNudgePost(PostKind):
    def compose(self, goal: QuietGoal, *, now: datetime, locale: str = EN) -> Draft:
        ref = f"G-{goal.number}"
        days = max((now - goal.since).days, QUIET_DAYS)
        reply = (
            Builder()
            .section(t("checkin_nudge.head", locale, ref=ref, title=esc(goal.title), metric=esc(goal.metric), days=days))
            .context(t("checkin_nudge.how", locale, ref=ref))
            .build(text=t("checkin_nudge.plain", locale, ref=ref, title=esc(goal.title)))
        )
        return Draft(text=reply.text, blocks=[*mark_locale(reply.blocks, locale), goal_actions_block(goal.number, locale=locale)])


CHECKIN_NUDGE = CheckinNudgePost("checkin_nudge")


def week_key(goal_id: int, day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"checkin-nudge:{goal_id}:{year}-W{week:02d}"


def _last_activity(session: Session, goal: Goal) -> datetime:
    """The newest of the goal's creation, its last check-in and the last KPI value logged on its metric (its parts,
    for a ratio; on its channel, when it has one)."""
    metric = goal.metric
    ids = [metric.numerator_id, metric.denominator_id] if metric.is_ratio else [metric.id]
    where = [KpiValue.metric_id.in_(ids)]
    if goal.channel is not None:
        where.append(func.lower(KpiValue.channel).in_(channels.names(session, workspace_id=goal.workspace_id,
                                                                     channel=goal.channel)))
    logged = session.scalar(select(func.max(KpiValue.updated_at)).where(*where))
    checked = session.scalar(select(func.max(GoalCheckin.created_at)).where(GoalCheckin.goal_id == goal.id))
    return max(d for d in (goal.created_at, logged, checked) if d is not None)


#: (database, goal id) -> the earliest moment the goal can have gone quiet: no need to look before then
_not_before: dict[tuple[int, int], datetime] = {}


def quiet_goals(session: Session, *, now: datetime, engine_id: int = 0) -> list[QuietGoal]:
    """Open goals with an owner and nothing new for QUIET_DAYS."""
    out = []
    for goal in session.scalars(select(Goal).where(Goal.status == "active", Goal.owner_id.is_not(None))
                                .order_by(Goal.id)):
        cache = (engine_id, goal.id)
        if _not_before.get(cache, now) > now:
            continue
        since = _last_activity(session, goal)
        if now - since < timedelta(days=QUIET_DAYS):
            # looked at again when it may have gone quiet, and at least hourly (a clock set back, a value deleted)
            _not_before[cache] = min(since + timedelta(days=QUIET_DAYS), now + timedelta(hours=1))
            continue
        assert goal.owner_id is not None
        out.append(QuietGoal(goal.id, goal.workspace_id, goal.owner_id, goal.number, goal.title, goal.metric.name, since))
    return out


def enqueue_checkin_nudges(ctx: JobContext, now: datetime) -> list[str]:
    """Each quiet goal's owner, once a week at 09:00 or later in their own time zone (unless notifications are off)."""
    with ctx.db.session(write=False) as session:
        found = quiet_goals(session, now=now, engine_id=id(ctx.db.engine))
        off = notifications.disabled(session, {(g.workspace_id, g.owner_id) for g in found})
        found = [g for g in found if (g.workspace_id, g.owner_id) not in off]
    zones = owner_zones(ctx, {(g.workspace_id, g.owner_id) for g in found}, now=now)
    due: list[tuple[QuietGoal, str]] = []
    with ctx.db.session(write=False) as session:
        for goal in found:
            local = now.astimezone(zones[(goal.workspace_id, goal.owner_id)])
            key = week_key(goal.id, local.date())
            if local.hour >= NUDGE_AT_HOUR and not outbox.exists(session, dedupe_key=key):
                due.append((goal, key))
    # each owner's language (users.info, cached) with no transaction open: it may wait on Slack
    drafts = [(goal, key, CHECKIN_NUDGE.compose(goal, now=now, locale=ctx.locales.resolve(
        ctx.client, ctx.db, goal.workspace_id, goal.owner_id))) for goal, key in due]
    claimed: list[str] = []
    with ctx.db.session() as session:
        for goal, key, draft in drafts:
            if CHECKIN_NUDGE.enqueue(session, draft, workspace_id=goal.workspace_id, key=key, user_id=goal.owner_id,
                                     now=now, payload={"goal_id": goal.id}) is not None:
                claimed.append(key)
    return claimed
