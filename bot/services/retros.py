"""Retrospectives: a thread per campaign or period, replies collected line by line, action items become tasks."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.i18n import Msg, msg
from bot.services import campaigns, goals, kpis
from bot.services.notifications import Actor
from bot.services.refs import get_by_number, next_number
from bot.services.tasks import TaskCreate, create_task
from storage.models import Goal, KpiValue, Metric, Retro, RetroMessage, RetroNote, Task
from storage.types import utcnow

CATEGORIES = {
    "well": ("went well", "well", "good", "worked", "+", "做得好", "好的", "亮点"),
    "not": ("didn't", "didnt", "did not", "not", "bad", "problem", "failed", "-", "不足", "问题", "没做好"),
    "try": ("try next", "try", "next", "idea", "尝试", "下次", "改进"),
    "action": ("action", "todo", "to do", "行动", "待办"),
}
PREFIX = re.compile(
    r"^\s*(?:[-*•]\s+)?(?P<key>"
    + "|".join(sorted((re.escape(k) for ks in CATEGORIES.values() for k in ks if k not in "+-"), key=len, reverse=True))
    + r")\s*[:：]\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
DUE = re.compile(r"(?:^|\s)(?:due|by)[:：]\s*(\S+)", re.IGNORECASE)
DUE_MORE_WORDS = 4  # `due:end of next month`: the most words a due date takes after its first


def period_name(kind: str, start: date, title: str) -> str | Msg:
    """A month or quarter retro's period as the reader reads it ("November 2026" / "2026年11月"); any other
    title as it is."""
    if kind == "quarter":
        return msg("retro.title.quarter", year=start.year, q=(start.month - 1) // 3 + 1)
    if kind == "month":
        return msg("retro.title.month", year=start.year, month=msg(f"error.parse.month.{start.month}"))
    return title


@dataclass(frozen=True)
class NoteLine:
    category: str
    text: str
    owner_id: str | None = None


#: What one thread reply can add: the first 20 action items and 50 notes in all; the rest is not recorded.
MAX_ACTIONS_PER_REPLY = 20
MAX_NOTES_PER_REPLY = 50


def kept_lines(text: str) -> list[tuple[int, NoteLine]]:
    """The reply's note lines (with their line index) that are recorded, within the per-reply caps."""
    kept: list[tuple[int, NoteLine]] = []
    actions = 0
    for index, line in enumerate(text.splitlines()):
        note = classify(line)
        if note is None or len(kept) >= MAX_NOTES_PER_REPLY:
            continue
        if note.category == "action":
            actions += 1
            if actions > MAX_ACTIONS_PER_REPLY:
                continue
        kept.append((index, NoteLine(note.category, note.text[:3000], note.owner_id)))
    return kept


def dropped_lines(text: str) -> int:
    """How many note lines of the reply the caps leave out."""
    return sum(1 for line in text.splitlines() if classify(line) is not None) - len(kept_lines(text))


def classify(line: str) -> NoteLine | None:
    stripped = line.strip()
    if not stripped:
        return None
    match = PREFIX.match(stripped)
    if match:
        key = match["key"].lower()
        category = next(c for c, keys in CATEGORIES.items() if key in keys)
        text = match["rest"].strip()
    elif stripped[0] in "+-" and len(stripped) > 1 and stripped[1] == " ":
        category, text = ("well" if stripped[0] == "+" else "not"), stripped[2:].strip()
    else:
        category, text = "note", stripped
    if not text:
        return None
    owner = None
    if category == "action":
        mention = MENTION.search(text)
        owner = mention.group(1) if mention else None
    return NoteLine(category, text, owner)


def action_title(text: str, *, owner_id: str | None) -> str:
    """An action line as a task title: the owner's mention (the first one) taken out, any other
    mention kept where it was (`<@ANA> <@BO> write the brief` → `<@BO> write the brief`)."""
    if owner_id:
        first = MENTION.search(text)
        if first is not None and first.group(1) == owner_id:
            text = text[: first.start()] + " " + text[first.end() :]
    return " ".join(text.split())


def period_for(kind: str, today: date) -> tuple[date, date, str]:
    """This month or quarter so far; in the first days of a new one, the one that just ended."""
    if kind == "quarter":
        first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        if (today - first).days < 10:
            end = first - timedelta(days=1)
            first = date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)
        else:
            end = today
        return first, end, f"Q{(first.month - 1) // 3 + 1} {first.year}"
    first = today.replace(day=1)
    if today.day <= 5:
        end = first - timedelta(days=1)
        first = end.replace(day=1)
    else:
        end = today
    return first, end, first.strftime("%B %Y")


@dataclass(frozen=True)
class RetroCard:
    """What a retrospective's posts show of the retro itself."""

    number: int
    title: str
    period_start: date
    period_end: date
    kind: str = "manual"  # manual | campaign | month | quarter: how a title like "十一月 retrospective" is worded

    @classmethod
    def of(cls, retro: Retro) -> RetroCard:
        return cls(retro.number, retro.title, retro.period_start, retro.period_end, retro.kind)


@dataclass(frozen=True)
class SummaryNote:
    """A note in the closing summary: its column, its text as typed, who wrote it."""

    category: str
    text: str
    user_id: str | None

    @classmethod
    def of(cls, note: RetroNote) -> SummaryNote:
        return cls(note.category, note.text, note.user_id)


@dataclass(frozen=True)
class SummaryTask:
    """An action item of the closing summary, as the task it became."""

    number: int
    title: str
    owner_id: str | None
    due_on: date | None

    @classmethod
    def of(cls, task: Task) -> SummaryTask:
        return cls(task.number, task.title, task.owner_id, task.due_on)


@dataclass(frozen=True)
class RetroGoal:
    ref: str
    title: str
    current: Decimal | None
    target: Decimal
    unit: str | None
    status: str | None
    attained: Decimal | None  # "% of target", as everywhere (bot.metrics.attainment)


@dataclass(frozen=True)
class RetroKpi:
    """A KPI over the retrospective's period so far, against the same number of days just before it."""

    name: str
    value: Decimal | None
    # what `value` is set against (kpis.compare_periods): the days before, for a summed metric their mean per day
    # logged times the period's days logged; None when there is nothing like-for-like to compare with (`why_not`)
    previous: Decimal | None
    unit: str | None
    better: str
    days: int  # the days compared: the period's days that are over
    period_days: int  # the whole period
    why_not: str | None = None  # "thin": the previous window has too little data; "none": no day is over yet


@dataclass
class RetroResults:
    goals: list[RetroGoal] = field(default_factory=list)
    kpis: list[RetroKpi] = field(default_factory=list)
    spend: Decimal | None = None
    budget: Decimal | None = None
    currency: str | None = None
    roi: Decimal | None = None
    channels: tuple[str, ...] = ()  # a campaign's channels: its KPIs are those channels' alone


def results(session: Session, *, retro: Retro, today: date) -> RetroResults:
    out = RetroResults()
    goal_rows: list[Goal]
    if retro.campaign is not None:
        summary = campaigns.summary(session, campaign=retro.campaign)
        out.spend, out.budget, out.currency, out.roi = summary.spend, retro.campaign.budget, retro.campaign.currency, summary.roi
        goal_rows = summary.goals
        out.channels = tuple(dict.fromkeys(retro.campaign.channels or ()))
    else:
        goal_rows = list(
            session.scalars(
                select(Goal).where(
                    Goal.workspace_id == retro.workspace_id,
                    Goal.start_on <= retro.period_end,
                    Goal.due_on >= retro.period_start,
                )
            )
        )
    for goal in goal_rows[:10]:
        progress = goals.progress(session, goal=goal, today=today)
        out.goals.append(RetroGoal(f"G-{goal.number}", goal.title, progress.current, goal.target, goal.metric.unit,
                                   progress.status, progress.percent_of_target))
    # Like with like, as `/kpi show` (kpis.compare_periods): the period's days that are over against as many
    # days just before the period, a summed metric by its mean per day logged.
    period_days = (retro.period_end - retro.period_start).days + 1
    on = out.channels or None  # a campaign on 天猫 is judged on 天猫's figures, not the whole shop's
    in_period = [KpiValue.workspace_id == retro.workspace_id, KpiValue.day >= retro.period_start,
                 KpiValue.day <= retro.period_end]
    if on:
        in_period.append(kpis.on_channels(session, workspace_id=retro.workspace_id, names=on))
    metric_ids = set(session.scalars(select(KpiValue.metric_id).where(*in_period).distinct()))
    metrics = list(session.scalars(select(Metric).where(Metric.workspace_id == retro.workspace_id).order_by(Metric.number)))
    for metric in metrics:
        relevant = metric.id in metric_ids or (metric.is_ratio and {metric.numerator_id, metric.denominator_id} <= metric_ids)
        if not relevant:
            continue
        compared = kpis.compare_periods(session, metric=metric, start=retro.period_start, end=retro.period_end,
                                        today=today, channel=on)
        if compared.reason == "none":
            now_value = kpis.period_value(session, metric=metric, start=retro.period_start, end=retro.period_end,
                                          channel=on).value
            out.kpis.append(RetroKpi(metric.name, now_value, None, metric.unit, metric.better, 0, period_days, "none"))
            continue
        # `previous` is the earlier figure the period's is set against: for a sum, the earlier mean per day
        # logged over as many days as the period's logged, so that change(value, previous) is the change compared
        thin = compared.reason == "thin" or compared.previous is None
        previous = None
        if not thin and compared.before is not None:
            previous = compared.before * compared.days_logged if compared.per_day else compared.before
        out.kpis.append(RetroKpi(metric.name, compared.current, previous, metric.unit, metric.better, compared.days,
                                 period_days, "thin" if thin else None))
        if len(out.kpis) >= 10:
            break
    return out


def start_retro(
    session: Session,
    *,
    workspace_id: str,
    channel: str,
    kind: str,
    today: date,
    user_id: str | None,
    campaign_number: int | None = None,
    auto_key: str | None = None,
) -> Retro:
    campaign = None
    if campaign_number is not None:
        campaign = campaigns.get_campaign(session, workspace_id=workspace_id, number=campaign_number)
        start, end, title = campaign.start_on, campaign.end_on, f"C-{campaign.number} {campaign.name}"
        kind = "campaign"
    else:
        start, end, title = period_for(kind, today)
    already = session.scalars(
        select(Retro).where(
            Retro.workspace_id == workspace_id,
            Retro.slack_channel_id == channel,
            Retro.status == "open",
            Retro.kind == kind,
            Retro.period_start == start,
            (Retro.campaign_id == campaign.id) if campaign else Retro.campaign_id.is_(None),
        )
    ).first()
    if already is not None and auto_key is None:
        raise UserError.of("error.retro.already_open", ref=f"R-{already.number}", title=period_name(kind, start, title))
    retro = Retro(
        workspace_id=workspace_id,
        number=next_number(session, workspace_id=workspace_id, kind="retro"),
        title=title,
        kind=kind,
        campaign_id=campaign.id if campaign else None,
        period_start=start,
        period_end=end,
        slack_channel_id=channel,
        status="open",
        auto_key=auto_key,
        created_by=user_id,
        created_at=utcnow(),
    )
    session.add(retro)
    session.flush()
    return retro


def set_thread(session: Session, *, retro_id: int, thread_ts: str) -> None:
    retro = session.get(Retro, retro_id)
    if retro is not None and not retro.thread_ts:
        retro.thread_ts = thread_ts


def find_by_thread(session: Session, *, workspace_id: str, channel: str, thread_ts: str) -> Retro | None:
    return session.scalars(
        select(Retro).where(
            Retro.workspace_id == workspace_id, Retro.slack_channel_id == channel, Retro.thread_ts == thread_ts
        )
    ).first()


def record_reply(
    session: Session, *, retro: Retro, user_id: str | None, message_ts: str, text: str
) -> int:
    """Store each line of a thread reply once; a retried event (same ts) adds nothing.

    `text` is what the person typed, with Slack's markup (<@U…>, <#C…>, links) in it: a message event's
    text goes through `bot.slack_text.slack_unescape` first, so "R&amp;D" is stored as "R&D".
    """
    if retro.status != "open":
        return 0
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    added = 0
    for index, note in kept_lines(text):
        result = session.execute(
            insert(RetroNote)
            .values(
                workspace_id=retro.workspace_id,
                retro_id=retro.id,
                user_id=user_id,
                message_ts=message_ts,
                line=index,
                category=note.category,
                text=note.text,
                owner_id=note.owner_id,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
            .returning(RetroNote.id)
        ).first()
        added += 1 if result else 0
    return added


def replace_reply(
    session: Session, *, retro: Retro, user_id: str | None, message_ts: str, text: str
) -> int:
    """An edited (or, with no text, deleted) thread reply: what it said before is forgotten and the new text
    recorded, while the retro is open. A closed retro keeps what it was closed with."""
    if retro.status != "open":
        return 0
    session.execute(delete(RetroNote).where(RetroNote.retro_id == retro.id, RetroNote.message_ts == message_ts))
    return record_reply(session, retro=retro, user_id=user_id, message_ts=message_ts, text=text)


def _ts_key(ts: str) -> Decimal:
    try:
        return Decimal(ts)
    except ArithmeticError:
        return Decimal(0)


def _message_state(session: Session, *, retro: Retro, message_ts: str, user_id: str | None, version_ts: str) -> RetroMessage:
    """The reply's state row, created if this is the first event seen for it, and locked for this transaction
    so that two deliveries of the same reply are applied one after the other."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(RetroMessage)
        .values(
            workspace_id=retro.workspace_id, retro_id=retro.id, message_ts=message_ts, user_id=user_id,
            version_ts=version_ts, deleted=False, updated_at=utcnow(),
        )
        .on_conflict_do_nothing()
    )
    return session.scalars(
        select(RetroMessage)
        .where(RetroMessage.retro_id == retro.id, RetroMessage.message_ts == message_ts)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def apply_reply(
    session: Session,
    *,
    retro: Retro,
    user_id: str | None,
    message_ts: str,
    text: str,
    kind: str,
    version_ts: str | None = None,
) -> int:
    """One event about a thread reply (`kind` is "new", "edit" or "delete"), applied only if it is newer than
    what the reply already shows, so that Slack's out-of-order and retried deliveries settle on its last state:
    an original after any edit or delete is ignored, an edit older than the one applied is ignored, and once
    deleted a reply never comes back. `version_ts` is an edit's `edited.ts` (or a delete's own ts).
    A closed retro keeps what it was closed with. Returns how many note lines were recorded."""
    if retro.status != "open":
        return 0
    version = message_ts if kind == "new" else (version_ts or message_ts)
    if kind == "new":
        known = session.scalars(
            select(RetroMessage.id).where(RetroMessage.retro_id == retro.id, RetroMessage.message_ts == message_ts)
        ).first()
        if known is not None:
            return 0  # a retry, or the original arriving after its edit or delete
    state = _message_state(session, retro=retro, message_ts=message_ts, user_id=user_id, version_ts=version)
    if kind == "new":
        if state.version_ts != version or state.deleted:
            return 0  # another delivery got there first
        return record_reply(session, retro=retro, user_id=user_id, message_ts=message_ts, text=text)
    if state.deleted:
        return 0
    if kind == "delete":
        state.deleted, state.version_ts, state.updated_at = True, version, utcnow()
        session.execute(delete(RetroNote).where(RetroNote.retro_id == retro.id, RetroNote.message_ts == message_ts))
        return 0
    if _ts_key(version) < _ts_key(state.version_ts):
        return 0  # older than the edit already applied (the same edit retried is applied again, to the same notes)
    state.version_ts, state.updated_at = version, utcnow()
    if user_id:
        state.user_id = user_id
    return replace_reply(session, retro=retro, user_id=user_id, message_ts=message_ts, text=text)


def notes(session: Session, *, retro: Retro) -> list[RetroNote]:
    return list(session.scalars(select(RetroNote).where(RetroNote.retro_id == retro.id).order_by(RetroNote.id)))


def note_count(session: Session, *, retro_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(RetroNote).where(RetroNote.retro_id == retro_id)) or 0)


def get_retro(session: Session, *, workspace_id: str, number: int) -> Retro:
    return get_by_number(session, Retro, workspace_id=workspace_id, number=number, kind="retro")


def list_open(session: Session, *, workspace_id: str) -> list[Retro]:
    return list(
        session.scalars(select(Retro).where(Retro.workspace_id == workspace_id, Retro.status == "open").order_by(Retro.number))
    )


@dataclass
class Closed:
    retro: Retro
    notes: list[RetroNote]
    tasks: list[Task]
    changed: bool

    def summary(self) -> tuple[RetroCard, list[SummaryNote], list[SummaryTask]]:
        """What the closing summary shows: the retro, its notes and the tasks its action items became."""
        return RetroCard.of(self.retro), [SummaryNote.of(n) for n in self.notes], [SummaryTask.of(t) for t in self.tasks]


def close_retro(
    session: Session,
    *,
    workspace_id: str,
    number: int,
    user_id: str | None,
    parse_due: Callable[[str], date | None] = lambda _text: None,
    by: Actor | None = None,
) -> Closed:
    retro = get_retro(session, workspace_id=workspace_id, number=number)
    rows = notes(session, retro=retro)
    created: list[Task]
    if retro.status == "closed":
        created = list(session.scalars(select(Task).where(Task.retro_id == retro.id).order_by(Task.number)))
        return Closed(retro, rows, created, False)
    created = []
    for note in rows:
        if note.category != "action" or note.task_id is not None:
            continue
        due, title = None, note.text
        match = DUE.search(note.text)
        if match:
            # `due:next fri`: the words after the value join it while together they read as a date, as in a command
            for more in range(DUE_MORE_WORDS, -1, -1):
                tail = re.match(r"(?:\s+\S+){" + str(more) + "}", note.text[match.end():])
                if tail is None:
                    continue
                due = parse_due(" ".join([match.group(1), *tail.group(0).split()]))
                if due is not None:
                    title = note.text[: match.start()] + note.text[match.end() + tail.end():]
                    break
        title = action_title(title, owner_id=note.owner_id) or note.text
        task = create_task(
            session,
            workspace_id=workspace_id,
            data=TaskCreate(
                title=title,
                owner_id=note.owner_id or note.user_id,
                due_on=due,
                campaign=retro.campaign.number if retro.campaign else None,
                slack_channel_id=retro.slack_channel_id,
            ),
            user_id=user_id,
            by=by,  # an action item owned by someone else than who closes the retro tells them
        )
        task.retro_id = retro.id
        note.task_id = task.id
        created.append(task)
    retro.status = "closed"
    retro.closed_at = utcnow()
    session.flush()
    return Closed(retro, rows, created, True)
