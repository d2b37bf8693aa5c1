"""Typed ORM models. Every row belongs to a workspace (Slack team_id) and every query is scoped by it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import JSONList, Micros, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


ID = BigInteger().with_variant(Integer(), "sqlite")


class Workspace(Base):
    __tablename__ = "workspaces"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # Slack team_id
    name: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Counter(Base):
    """The next short reference number per workspace and kind (T, G, C, F, R, K)."""

    __tablename__ = "counters"
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Metric(Base):
    __tablename__ = "metrics"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        UniqueConstraint("workspace_id", "key", name="uq_metrics_workspace_key"),
    )
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(100))  # casefolded name, for lookups
    unit: Mapped[str | None] = mapped_column(String(20))
    agg: Mapped[str] = mapped_column(String(8), default="sum")  # sum | avg | last
    better: Mapped[str] = mapped_column(String(4), default="up")  # up | down
    numerator_id: Mapped[int | None] = mapped_column(ForeignKey("metrics.id"))
    denominator_id: Mapped[int | None] = mapped_column(ForeignKey("metrics.id"))
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    numerator: Mapped[Metric | None] = relationship(foreign_keys=[numerator_id], remote_side=[id])
    denominator: Mapped[Metric | None] = relationship(foreign_keys=[denominator_id], remote_side=[id])

    @property
    def is_ratio(self) -> bool:
        return self.numerator_id is not None


class KpiValue(Base):
    """One value of a metric for one marketing channel ('' when none) on one day."""

    __tablename__ = "kpi_values"
    __table_args__ = (
        UniqueConstraint("metric_id", "channel", "day", name="uq_kpi_values_metric_channel_day"),
        Index("ix_kpi_values_workspace_day", "workspace_id", "day"),
    )
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    metric_id: Mapped[int] = mapped_column(ForeignKey("metrics.id"))
    channel: Mapped[str] = mapped_column(String(100), default="")
    day: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Micros())
    user_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Goal(Base):
    __tablename__ = "goals"
    __table_args__ = (UniqueConstraint("workspace_id", "number"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    metric_id: Mapped[int] = mapped_column(ForeignKey("metrics.id"))
    target: Mapped[Decimal] = mapped_column(Micros())
    baseline: Mapped[Decimal | None] = mapped_column(Micros())
    start_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    owner_id: Mapped[str | None] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id"))
    channel: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | closed
    slack_channel_id: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    metric: Mapped[Metric] = relationship()
    parent: Mapped[Goal | None] = relationship(remote_side=[id])


class GoalCheckin(Base):
    __tablename__ = "goal_checkins"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id"), index=True)
    value: Mapped[Decimal] = mapped_column(Micros())
    confidence: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("workspace_id", "number"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    channels: Mapped[list[str]] = mapped_column(JSONList(), default=list)
    budget: Mapped[Decimal | None] = mapped_column(Micros())
    currency: Mapped[str | None] = mapped_column(String(4))
    audience: Mapped[str | None] = mapped_column(Text)
    theme: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    slack_channel_id: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CampaignGoal(Base):
    __tablename__ = "campaign_goals"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id"), primary_key=True)


class CampaignSpend(Base):
    __tablename__ = "campaign_spend"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Micros())
    channel: Mapped[str] = mapped_column(String(100), default="")
    day: Mapped[date] = mapped_column(Date)
    user_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CampaignRisk(Base):
    __tablename__ = "campaign_risks"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id"))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        Index("ix_tasks_workspace_status_due", "workspace_id", "status", "due_on"),
    )
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), default="todo")  # todo | in_progress | blocked | done
    block_reason: Mapped[str | None] = mapped_column(Text)
    start_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id"))
    source_permalink: Mapped[str | None] = mapped_column(Text)
    slack_channel_id: Mapped[str | None] = mapped_column(String(32))
    retro_id: Mapped[int | None] = mapped_column(ForeignKey("retros.id", use_alter=True))
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign: Mapped[Campaign | None] = relationship()
    goal: Mapped[Goal | None] = relationship()


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("workspace_id", "number"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10), default="team")  # customer | team
    tags: Mapped[list[str]] = mapped_column(JSONList(), default=list)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id"))
    permalink: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    campaign: Mapped[Campaign | None] = relationship()
    goal: Mapped[Goal | None] = relationship()


class Schedule(Base):
    """A channel's subscription to a scheduled post: the daily digest or the weekly KPI report."""

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("workspace_id", "number"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))  # digest | report
    slack_channel_id: Mapped[str] = mapped_column(String(32))
    hour: Mapped[int] = mapped_column(Integer)
    minute: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    days: Mapped[str] = mapped_column(String(20), default="0,1,2,3,4,5,6")  # weekdays, Monday = 0
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_slot: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[str | None] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(Text)
    attach: Mapped[str | None] = mapped_column(String(10))  # a report's attachment: None | "xlsx"


class Outbox(Base):
    """Every scheduled message, claimed once per time slot (unique key) and delivered until Slack confirms it."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # digest | report | retro | reminder | summary
    slack_channel_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))  # direct messages: opened at send time
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    blocks: Mapped[str | None] = mapped_column(Text)  # JSON
    payload: Mapped[str | None] = mapped_column(Text)  # JSON: charts to upload, the record to link the post to
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Retro(Base):
    __tablename__ = "retros"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        UniqueConstraint("auto_key", name="uq_retros_auto_key"),
    )
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10))  # campaign | month | quarter
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    slack_channel_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    auto_key: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign: Mapped[Campaign | None] = relationship()


class RetroNote(Base):
    """One line of a reply in a retrospective's thread; Slack's message ts makes a retried event harmless."""

    __tablename__ = "retro_notes"
    __table_args__ = (UniqueConstraint("retro_id", "message_ts", "line", name="uq_retro_notes_message_line"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    retro_id: Mapped[int] = mapped_column(ForeignKey("retros.id"), index=True)
    user_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    line: Mapped[int] = mapped_column(Integer, default=0)
    category: Mapped[str] = mapped_column(String(10))  # well | not | try | action | note
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str | None] = mapped_column(String(32))  # action items
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RetroMessage(Base):
    """What is known of one reply in a retrospective's thread, so that events arriving in any order settle on
    its last state: `version_ts` is the ts of the text applied (the message's own ts, or its last edit's
    `edited.ts`), and a deleted reply stays deleted."""

    __tablename__ = "retro_messages"
    __table_args__ = (UniqueConstraint("retro_id", "message_ts", name="uq_retro_messages_message"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    retro_id: Mapped[int] = mapped_column(ForeignKey("retros.id"), index=True)
    message_ts: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    version_ts: Mapped[str] = mapped_column(String(32))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiToken(Base):
    """A bearer token for the HTTP API, scoped to one workspace. Only the SHA-256 of its secret is stored; `prefix`
    (the secret's first characters) tells tokens apart in a list."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PostLanguage(Base):
    """The language the team reads the bot's channel posts in: the workspace's (channel '*') and per-channel
    overrides. `language` is a locale (zh-CN, en) or 'auto' (the workspace's own)."""

    __tablename__ = "post_languages"
    __table_args__ = (UniqueConstraint("workspace_id", "slack_channel_id"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    slack_channel_id: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(16))
    set_by: Mapped[str | None] = mapped_column(String(32))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChannelAlias(Base):
    """Another spelling of one marketing channel, set by the team (`/kpi channel alias 京东 JD`): `alias_key` (the
    spelling, lower-cased) stands for the channel whose key is `channel_key`. A row whose two keys are equal takes
    a spelling out of a built-in alias (`/kpi channel unalias 京东`). See bot/services/channels.py."""

    __tablename__ = "channel_aliases"
    __table_args__ = (UniqueConstraint("workspace_id", "alias_key", name="uq_channel_aliases_workspace_alias"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    alias: Mapped[str] = mapped_column(String(100))
    alias_key: Mapped[str] = mapped_column(String(100))
    channel_key: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UserZone(Base):
    """A person's Slack time zone (users.info `tz`; None when the lookup failed), looked up off the ack path and
    refreshed rarely: their reminders come at 09:00 in it."""

    __tablename__ = "user_zones"
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tz: Mapped[str | None] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SchedulerHeartbeat(Base):
    """When a scheduler (by its name; every `mktbot run`/`scheduler` is "default") last ticked, and which worker:
    `/readyz` reads it. Not per workspace: the scheduler serves them all."""

    __tablename__ = "scheduler_heartbeats"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    worker: Mapped[str] = mapped_column(String(200))
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PendingImport(Base):
    """A KPI file someone sent the bot in Slack, between its preview and their Import or Cancel click. One row
    per Slack file and workspace: the same file sent twice (a `message` and a `file_shared` event, a re-sent
    event) is previewed once, and a click only imports when it moves the row from `pending` to `importing`.
    The file stays in Slack; the import reads it again, so a restart between preview and click loses nothing."""

    __tablename__ = "pending_imports"
    __table_args__ = (UniqueConstraint("workspace_id", "file_id", name="uq_pending_imports_workspace_file"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    user_id: Mapped[str] = mapped_column(String(32))
    file_id: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    preset: Mapped[str] = mapped_column(String(20), default="auto")
    slack_channel_id: Mapped[str | None] = mapped_column(String(32))  # the DM with the preview
    message_ts: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(10), default="checking")  # checking | pending | importing | done | cancelled | failed
    summary: Mapped[str | None] = mapped_column(Text)  # the preview's numbers, then the import's result
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NotificationEvent(Base):
    """Something someone did to another person's task, goal or campaign, recorded in the transaction that did it
    and turned by the scheduler into one direct message per person once their changes have been quiet for a
    while (bot/posts/notify.py). `subject` and `number` name the record by its reference (T-3 is task 3), which
    an export keeps; `detail` is JSON (the new status, due date, owner, check-in value…). `batch_key` is the
    outbox key of the message that carried it, or `off:…` when its person had notifications off: NULL while
    pending."""

    __tablename__ = "notification_events"
    __table_args__ = (Index("ix_notification_events_pending", "batch_key", "workspace_id", "user_id"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    user_id: Mapped[str] = mapped_column(String(32))  # who is told
    actor_id: Mapped[str] = mapped_column(String(32))  # who did it
    subject: Mapped[str] = mapped_column(String(10))  # task | goal | campaign
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # assigned | unassigned | status | due | title | edited | closed | checkin
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    batch_key: Mapped[str | None] = mapped_column(String(200))


class NotificationSetting(Base):
    """A person's choice of direct messages about what others do to their work (`/mkt notify off|on`); no row
    means on."""

    __tablename__ = "notification_settings"
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
