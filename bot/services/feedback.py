"""Feedback from customers and the team, tied to the campaign or goal it concerns."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import TEXT_MAX, check_length
from bot.services.refs import get_by_number, next_number
from storage.models import Campaign, Feedback, Goal
from storage.types import utcnow


@dataclass(frozen=True)
class FeedbackCreate:
    text: str
    source: str = "team"
    tags: list[str] = field(default_factory=list)
    campaign: int | None = None
    goal: int | None = None
    permalink: str | None = None


@dataclass(frozen=True)
class FeedbackItem:
    """A piece of feedback as replies show it: its reference, text, source, tags, what it concerns, its message."""

    number: int
    text: str
    source: str
    tags: tuple[str, ...]
    campaign_number: int | None
    goal_number: int | None
    permalink: str | None

    @classmethod
    def of(cls, row: Feedback) -> FeedbackItem:
        return cls(
            row.number, row.text, row.source, tuple(row.tags),
            row.campaign.number if row.campaign is not None else None,
            row.goal.number if row.goal is not None else None,
            row.permalink,
        )


def create_feedback(session: Session, *, workspace_id: str, data: FeedbackCreate, user_id: str | None) -> Feedback:
    check_length(data.text, field="feedback", limit=TEXT_MAX)
    campaign_id = goal_id = None
    if data.campaign is not None:
        campaign_id = get_by_number(session, Campaign, workspace_id=workspace_id, number=data.campaign, kind="campaign").id
    if data.goal is not None:
        goal_id = get_by_number(session, Goal, workspace_id=workspace_id, number=data.goal, kind="goal").id
    row = Feedback(
        workspace_id=workspace_id,
        number=next_number(session, workspace_id=workspace_id, kind="feedback"),
        text=data.text,
        source=data.source,
        tags=sorted(set(data.tags)),
        campaign_id=campaign_id,
        goal_id=goal_id,
        permalink=data.permalink,
        user_id=user_id,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def list_feedback(
    session: Session, *, workspace_id: str, campaign: int | None = None, tag: str | None = None, limit: int = 50
) -> list[Feedback]:
    query = select(Feedback).where(Feedback.workspace_id == workspace_id)
    if campaign is not None:
        campaign_id = get_by_number(session, Campaign, workspace_id=workspace_id, number=campaign, kind="campaign").id
        query = query.where(Feedback.campaign_id == campaign_id)
    rows = list(session.scalars(query.order_by(Feedback.id.desc())))
    if tag:
        rows = [r for r in rows if tag.casefold() in (t.casefold() for t in r.tags)]
    return rows[:limit]
