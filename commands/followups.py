"""What a listener leaves for after its ack: plain, frozen values, run in order by one executor (bot.after_ack).

A slash command's handler returns its reply, or an `Answer` (its reply and these values) when there is work
for after the ack; a button, a shortcut, a form or an event returns the values alone. Nothing here calls Slack or the delivery path: the executor does, off the ack path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.render.reply import Reply
from bot.services.outbox import Post

JSON = dict[str, Any]


@dataclass(frozen=True)
class WarmLocale:
    """Look up the person's Slack locale (users.info), so their next reply is in their language."""

    workspace_id: str
    user_id: str


@dataclass(frozen=True)
class Respond:
    """An answer through the request's response_url; a field left None is not sent. When the response_url
    fails and `channel` and `user` are known, the answer is posted to that person there (chat.postEphemeral)."""

    text: str
    blocks: list[JSON] | None = None
    response_type: str | None = None
    replace_original: bool | None = None
    channel: str | None = None
    user: str | None = None


@dataclass(frozen=True)
class OpenModal:
    """views.open for the person who clicked or typed; the view's private_metadata is sealed for `workspace_id`.
    When Slack refuses and `tell_failure`, the person is told through the response_url."""

    view: JSON
    trigger_id: str
    workspace_id: str
    locale: str
    tell_failure: bool = True


@dataclass(frozen=True)
class PublishHome:
    """views.publish of one person's Home tab (in their language when `locale` is None), `notice` on top."""

    workspace_id: str
    user_id: str
    locale: str | None = None
    notice: str | None = None


@dataclass(frozen=True)
class RefreshHomes:
    """The Home tabs of the people a change concerns, each once, except `skip`'s."""

    workspace_id: str
    users: tuple[str | None, ...]
    skip: str | None = None


@dataclass(frozen=True)
class Confirm:
    """A private note to `user_id`: in `channel`, else through `url` (a response_url), else by DM."""

    user_id: str
    channel: str | None
    url: str | None
    text: str
    blocks: list[JSON] | None


@dataclass(frozen=True)
class ReplaceOriginal:
    """The message a response_url belongs to, replaced."""

    url: str
    text: str
    blocks: list[JSON]


@dataclass(frozen=True)
class UpdateTaskMessage:
    """A task card in a shared message (a digest, a reminder) redrawn in place after a form changed the task."""

    workspace_id: str
    channel: str | None
    ts: str | None
    number: int
    actor: str
    changed: bool


@dataclass(frozen=True)
class QueuePost:
    """A post through the outbox, delivered at once (posted once even when Slack's answer is lost)."""

    workspace_id: str
    post: Post


@dataclass(frozen=True)
class DeliverPost:
    """Deliver this one outbox post now (queued by the handler in its own transaction), and nothing else."""

    outbox_id: int


@dataclass(frozen=True)
class PostChart:
    """Render a chart (`spec` as the report job takes it) and upload it to `channel_id`, else by DM to `user_id`."""

    workspace_id: str
    channel_id: str
    user_id: str
    spec: JSON
    comment: str
    locale: str
    label: str  # what the person typed after `/kpi show`, for the log


@dataclass(frozen=True)
class PostDigestNow:
    """Compose today's digest for `channel_id` and deliver it through the outbox; a refusal is told to `user_id`."""

    workspace_id: str
    channel_id: str
    key: str
    locale: str


FollowUp = (
    WarmLocale | Respond | OpenModal | PublishHome | RefreshHomes | Confirm | ReplaceOriginal | UpdateTaskMessage
    | QueuePost | DeliverPost | PostChart | PostDigestNow
)


@dataclass(frozen=True)
class Answer:
    """A slash command's result: the reply for the ack, and what runs after it."""

    reply: Reply
    followups: tuple[FollowUp, ...] = ()


def home_refresh(workspace_id: str, *users: str | None) -> tuple[FollowUp, ...]:
    """The Home tabs a change to these people's records shows on (none when nobody is named)."""
    named = tuple(u for u in users if u)
    return (RefreshHomes(workspace_id, named),) if named else ()
