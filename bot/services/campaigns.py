"""Campaigns (promotions): dates, channels, budget and spend, ROI, risks, linked goals and documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import UserError, check_length
from bot.services import channels as channel_names
from bot.services import kpis, notifications
from bot.services.notifications import Actor
from bot.services.refs import get_by_number, next_number
from storage.models import Campaign, CampaignGoal, CampaignRisk, CampaignSpend, Document, Goal, Task
from storage.types import utcnow

REVENUE_METRICS = ("revenue", "gmv", "sales", "销售额", "营收", "成交额")


@dataclass(frozen=True)
class CampaignCreate:
    name: str
    start_on: date
    end_on: date
    channels: list[str] = field(default_factory=list)
    budget: Decimal | None = None
    currency: str | None = None
    goal: int | None = None
    audience: str | None = None
    theme: str | None = None
    slack_channel_id: str | None = None


def create_campaign(session: Session, *, workspace_id: str, data: CampaignCreate, user_id: str | None) -> Campaign:
    check_length(data.name, field="name")
    if data.end_on < data.start_on:
        raise UserError.of("error.end_before_start", end=data.end_on, start=data.start_on)
    if data.budget is not None and data.budget < 0:
        raise UserError.of("error.budget_negative")
    goal = None
    if data.goal is not None:
        goal = get_by_number(session, Goal, workspace_id=workspace_id, number=data.goal, kind="goal")
    canon = channel_names.canon(session, workspace_id=workspace_id)
    named: dict[str, str] = {}  # one channel named twice (京东,JD) is one channel
    for typed in data.channels:
        if typed.strip():
            named.setdefault(canon.of(typed), channel_names.resolve(session, workspace_id=workspace_id, channel=typed))
    channels = list(named.values())
    campaign = Campaign(
        workspace_id=workspace_id,
        number=next_number(session, workspace_id=workspace_id, kind="campaign"),
        name=data.name,
        start_on=data.start_on,
        end_on=data.end_on,
        channels=channels,
        budget=data.budget,
        currency=data.currency,
        audience=data.audience,
        theme=data.theme,
        status="open",
        slack_channel_id=data.slack_channel_id,
        created_by=user_id,
        created_at=utcnow(),
    )
    session.add(campaign)
    session.flush()
    if goal is not None:
        session.add(CampaignGoal(campaign_id=campaign.id, goal_id=goal.id))
        session.flush()
    return campaign


def get_campaign(session: Session, *, workspace_id: str, number: int) -> Campaign:
    return get_by_number(session, Campaign, workspace_id=workspace_id, number=number, kind="campaign")


def phase(campaign: Campaign, today: date) -> str:
    if campaign.status == "closed":
        return "closed"
    if today < campaign.start_on:
        return "upcoming"
    if today > campaign.end_on:
        return "ended"
    return "live"


def list_campaigns(session: Session, *, workspace_id: str, include_closed: bool = False) -> list[Campaign]:
    query = select(Campaign).where(Campaign.workspace_id == workspace_id)
    if not include_closed:
        query = query.where(Campaign.status == "open")
    return list(session.scalars(query.order_by(Campaign.start_on, Campaign.number)))


def close_campaign(session: Session, *, workspace_id: str, number: int, by: Actor | None = None) -> tuple[Campaign, bool]:
    campaign = get_campaign(session, workspace_id=workspace_id, number=number)
    if campaign.status == "closed":
        return campaign, False
    campaign.status = "closed"
    campaign.closed_at = utcnow()
    # a campaign's owner is whoever set it up
    notifications.record(session, workspace_id=workspace_id, user_id=campaign.created_by, by=by,
                         subject=notifications.CAMPAIGN, number=campaign.number, kind=notifications.CLOSED)
    return campaign, True


def add_spend(
    session: Session,
    *,
    workspace_id: str,
    number: int,
    amount: Decimal,
    channel: str,
    day: date,
    user_id: str | None,
    currency: str | None = None,
) -> tuple[Campaign, CampaignSpend]:
    if amount <= 0:
        raise UserError.of("error.campaign.spend_positive")
    campaign = get_campaign(session, workspace_id=workspace_id, number=number)
    if currency and campaign.currency and currency != campaign.currency:  # never relabel $ as ¥
        raise UserError.of("error.campaign.currency", ref=f"C-{campaign.number}", unit=campaign.currency, typed=currency)
    if channel and campaign.channels:  # spend is set against the revenue of the campaign's own channels
        canon = channel_names.canon(session, workspace_id=workspace_id)
        if not any(canon.same(channel, on) for on in campaign.channels):
            raise UserError.of("error.campaign.spend_channel", ref=f"C-{campaign.number}", channel=channel,
                               channels=tuple(campaign.channels))
    row = CampaignSpend(
        workspace_id=workspace_id,
        campaign_id=campaign.id,
        amount=amount,
        channel=channel_names.resolve(session, workspace_id=workspace_id, channel=channel),
        day=day,
        user_id=user_id,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return campaign, row


def add_risk(session: Session, *, workspace_id: str, number: int, text: str, user_id: str | None) -> tuple[Campaign, CampaignRisk]:
    campaign = get_campaign(session, workspace_id=workspace_id, number=number)
    row = CampaignRisk(workspace_id=workspace_id, campaign_id=campaign.id, text=text, user_id=user_id, created_at=utcnow())
    session.add(row)
    session.flush()
    return campaign, row


def add_document(
    session: Session, *, workspace_id: str, number: int, url: str, title: str | None, user_id: str | None
) -> tuple[Campaign, Document]:
    campaign = get_campaign(session, workspace_id=workspace_id, number=number)
    row = Document(
        workspace_id=workspace_id, campaign_id=campaign.id, url=url, title=title, user_id=user_id, created_at=utcnow()
    )
    session.add(row)
    session.flush()
    return campaign, row


@dataclass(frozen=True)
class SpendEntry:
    """One spend as its confirmation shows it."""

    amount: Decimal
    channel: str
    day: date

    @classmethod
    def of(cls, row: CampaignSpend) -> SpendEntry:
        return cls(row.amount, row.channel, row.day)


@dataclass
class CampaignSummary:
    campaign: Campaign
    spend: Decimal
    spend_by_channel: dict[str, Decimal]
    revenue: Decimal | None
    revenue_metric: str | None
    roi: Decimal | None
    goals: list[Goal]
    risks: list[CampaignRisk]
    documents: list[Document]
    open_tasks: int
    done_tasks: int


@dataclass(frozen=True)
class CampaignCard:
    """A campaign as replies show it (plain values from its `CampaignSummary`): the campaign, its phase on the
    day it is shown, spend and return, goals (number, title), risks, documents (url, title) and task counts."""

    number: int
    name: str
    phase: str
    start_on: date
    end_on: date
    channels: tuple[str, ...]
    budget: Decimal | None
    currency: str | None
    theme: str | None
    audience: str | None
    spend: Decimal
    spend_by_channel: dict[str, Decimal]
    revenue: Decimal | None
    revenue_metric: str | None
    roi: Decimal | None
    goals: tuple[tuple[int, str], ...]
    risks: tuple[str, ...]
    documents: tuple[tuple[str, str | None], ...]
    open_tasks: int
    done_tasks: int

    @classmethod
    def of(cls, s: CampaignSummary, today: date) -> CampaignCard:
        c = s.campaign
        return cls(
            number=c.number, name=c.name, phase=phase(c, today), start_on=c.start_on, end_on=c.end_on,
            channels=tuple(c.channels or ()), budget=c.budget, currency=c.currency, theme=c.theme, audience=c.audience,
            spend=s.spend, spend_by_channel=dict(s.spend_by_channel), revenue=s.revenue, revenue_metric=s.revenue_metric,
            roi=s.roi, goals=tuple((g.number, g.title) for g in s.goals), risks=tuple(r.text for r in s.risks),
            documents=tuple((d.url, d.title) for d in s.documents), open_tasks=s.open_tasks, done_tasks=s.done_tasks,
        )


def card(session: Session, *, campaign: Campaign, today: date) -> CampaignCard:
    """The campaign as replies show it on `today`."""
    return CampaignCard.of(summary(session, campaign=campaign), today)


def summary(session: Session, *, campaign: Campaign) -> CampaignSummary:
    spend_rows = session.execute(
        select(CampaignSpend.channel, func.sum(CampaignSpend.amount))
        .where(CampaignSpend.campaign_id == campaign.id)
        .group_by(CampaignSpend.channel)
    ).all()
    by_channel = {ch: Decimal(total or 0) for ch, total in spend_rows}
    spend = sum(by_channel.values(), Decimal(0))
    revenue = None
    revenue_metric = None
    canon = channel_names.canon(session, workspace_id=campaign.workspace_id)
    on: dict[str, str] = {}  # a channel under two of its names counts once
    for spelling in campaign.channels:
        on.setdefault(canon.of(spelling), spelling)
    # The revenue metric: of revenue, gmv, sales… the one logged on the most of the campaign's days on its
    # channels (the first in that order on a tie), so one stray `revenue` value does not replace a month of gmv.
    best_days = 0
    for name in REVENUE_METRICS:
        metric = kpis.find_metric(session, workspace_id=campaign.workspace_id, name=name)
        if metric is None or metric.is_ratio:
            continue
        value = kpis.period_value(session, metric=metric, start=campaign.start_on, end=campaign.end_on,
                                  channel=list(on.values()) or None)
        if value.value is None:
            continue
        days = kpis.days_logged(session, metric=metric, start=campaign.start_on, end=campaign.end_on,
                                channel=list(on.values()) or None)
        if days > best_days:
            best_days, revenue, revenue_metric = days, value.value, metric.name
    roi = (revenue - spend) / spend if revenue is not None and spend > 0 else None
    goals = list(
        session.scalars(
            select(Goal).join(CampaignGoal, CampaignGoal.goal_id == Goal.id).where(CampaignGoal.campaign_id == campaign.id)
        )
    )
    risks = list(session.scalars(select(CampaignRisk).where(CampaignRisk.campaign_id == campaign.id).order_by(CampaignRisk.id)))
    docs = list(session.scalars(select(Document).where(Document.campaign_id == campaign.id).order_by(Document.id)))
    by_status = dict(
        session.execute(select(Task.status, func.count()).where(Task.campaign_id == campaign.id).group_by(Task.status)).all()
    )
    done = int(by_status.pop("done", 0))
    counts = {True: done, False: sum(int(n) for n in by_status.values())}
    return CampaignSummary(
        campaign=campaign,
        spend=spend,
        spend_by_channel=by_channel,
        revenue=revenue,
        revenue_metric=revenue_metric,
        roi=roi,
        goals=goals,
        risks=risks,
        documents=docs,
        open_tasks=int(counts.get(False, 0)),
        done_tasks=int(counts.get(True, 0)),
    )
