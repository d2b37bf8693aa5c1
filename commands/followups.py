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


@dataclass(frozen=True)
class PreviewImport:
    """A KPI file someone sent (a modal's file_input, or a file shared in their DM with the bot): download it
    (files.info, then `url_private_download` with the bot token), preview it against what is stored and DM
    them the preview with Import and Cancel; a bad file gets the reason (row and column), and nothing is written."""

    workspace_id: str
    user_id: str
    file_id: str
    preset: str = "auto"
    locale: str | None = None  # None: the person's Slack language, looked up


@dataclass(frozen=True)
class RunImport:
    """The Import click that moved pending import `pending_id` to `importing`: download the file again and
    import it, showing progress in the preview message (chat.update), then the result."""

    workspace_id: str
    user_id: str
    pending_id: int
    locale: str


@dataclass(frozen=True)
class SendExport:
    """A file for the person who asked, by DM: `kind` "kpi" (spec: metric ids, start, end, by_channel,
    channel), "goal" (include_closed) or "task" (a TaskFilter's fields), as `fmt` ("xlsx" or "csv")."""

    workspace_id: str
    user_id: str
    kind: str
    spec: JSON
    fmt: str
    locale: str


@dataclass(frozen=True)
class ManageApiTokens:
    """`/mkt api-token new|list|revoke`: only for a workspace admin or owner (users.info, cached), answered
    privately through the response_url; a new token's secret is shown there once."""

    workspace_id: str
    user_id: str
    verb: str  # new | list | revoke
    argument: str  # the new token's name, or the id to revoke
    locale: str


FollowUp = (
    WarmLocale | Respond | OpenModal | PublishHome | RefreshHomes | Confirm | ReplaceOriginal | UpdateTaskMessage
    | QueuePost | DeliverPost | PostChart | PostDigestNow | PreviewImport | RunImport | SendExport | ManageApiTokens
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
