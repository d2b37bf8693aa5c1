"""Scheduled posts, one module per kind (digest, report, retro, reminder), each of one shape: compose from data
read in a read-only session (collect plain data, then render it), then enqueue in a short write transaction.

The kinds are mapped in `bot.posts.kinds`. Delivery (jobs.delivery) knows no kind: it finds a kind's after-sent
hooks in that mapping, through the job context."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from bot.render.reply import Reply
from bot.services import outbox

if TYPE_CHECKING:
    from jobs.context import JobContext


@dataclass(frozen=True)
class Draft:
    """A composed post, not in the outbox yet."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    payload: dict[str, Any] | None = None  # read back by delivery and the kind's hooks

    @classmethod
    def of(cls, reply: Reply, payload: dict[str, Any] | None = None) -> Draft:
        return cls(text=reply.text, blocks=reply.blocks, payload=payload)


@dataclass(frozen=True)
class Sent:
    """A post Slack confirmed, as a kind's after-sent hook sees it."""

    outbox_id: int
    workspace_id: str
    channel: str
    ts: str
    payload: Mapping[str, Any]
    at: datetime | None = None  # when it was recorded as sent, on the job's clock


RecordSent = Callable[[Session, Sent], None]
AfterSent = Callable[["JobContext", Sent], None]


@dataclass(frozen=True)
class PostKind:
    """What every kind has: its outbox kind, how a draft enters the outbox, and what follows once Slack has it.

    `record_sent` runs in the transaction that records the post as sent (a retro remembers its thread);
    `after_sent` runs once the post is settled, on a worker thread with no transaction open: slow work such as
    the report's charts uploaded into its thread."""

    kind: str
    record_sent: RecordSent | None = None
    after_sent: AfterSent | None = None

    def enqueue(
        self, session: Session, draft: Draft, *, workspace_id: str, key: str, now: datetime | None = None,
        channel: str | None = None, user_id: str | None = None, thread_ts: str | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> int | None:
        """Insert the draft unless its key exists (to a channel, or as a DM to `user_id`); the new outbox id,
        or None when another process claimed the key first. `payload` adds to the draft's own."""
        merged = {**(draft.payload or {}), **(payload or {})} if draft.payload is not None or payload else None
        return outbox.enqueue(
            session,
            workspace_id=workspace_id,
            post=outbox.Post(
                dedupe_key=key, kind=self.kind, text=draft.text, blocks=draft.blocks, slack_channel_id=channel,
                user_id=user_id, thread_ts=thread_ts, payload=merged,
            ),
            now=now,
        )


class ScheduledPost(Protocol):
    """A kind that schedules post (digest, report): composed for one workspace's day, posted to a channel and
    written in that channel's team language."""

    @property
    def kind(self) -> str: ...

    def compose(self, session: Session, *, workspace_id: str, today: date, channel: str | None = None) -> Draft: ...

    def enqueue(
        self, session: Session, draft: Draft, *, workspace_id: str, key: str, now: datetime | None = None,
        channel: str | None = None, user_id: str | None = None, thread_ts: str | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> int | None: ...
