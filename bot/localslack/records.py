"""What the local Slack records and holds: Web API calls, messages (with their edit history), files,
the bot's answers to what Slack sent it, and the private state records (users, channels, canned answers,
trigger ids, response URLs).
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from typing import Any

from bot.localslack.mrkdwn import texts_in

JSONDict = dict[str, Any]


@dataclass
class Call:
    """One Web API request as it arrived."""

    method: str
    args: JSONDict
    headers: dict[str, str]
    at: float


@dataclass
class Message:
    """A message as Slack holds it. `thread_ts` is the thread it was posted into (None for top level)."""

    channel: str
    ts: str
    text: str
    user: str
    blocks: list[JSONDict] | None = None
    thread_ts: str | None = None
    metadata: JSONDict | None = None
    ephemeral_user: str | None = None
    files: list[JSONDict] = field(default_factory=list)
    bot_id: str | None = None
    app_id: str | None = None
    attachments: list[JSONDict] | None = None
    reply_broadcast: bool = False
    client_msg_id: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    deleted: bool = False
    edited_ts: str | None = None
    #: earlier versions, oldest first: {"text", "blocks", "metadata", "replaced_at", "via"}
    history: list[JSONDict] = field(default_factory=list)
    #: where it came from: "chat.postMessage", "chat.postEphemeral", "response_url", "command_ack",
    #: "command_echo", "files.completeUploadExternal", "user"
    source: str = "chat.postMessage"

    @property
    def is_bot(self) -> bool:
        return self.bot_id is not None

    @property
    def is_ephemeral(self) -> bool:
        return self.ephemeral_user is not None

    def all_text(self) -> str:
        """`text` plus every text found in blocks (handy for assertions)."""
        parts = [self.text]
        if self.blocks:
            parts.extend(texts_in(self.blocks))
        return "\n".join(p for p in parts if p)


@dataclass
class File:
    id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    alt_txt: str | None = None
    snippet_type: str | None = None
    user: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    created: int = 0
    completed: bool = False
    shares: list[tuple[str, str]] = field(default_factory=list)  # (channel, message ts)

    @property
    def size(self) -> int:
        return len(self.content) if self.content is not None else 0

    @property
    def mimetype(self) -> str:
        return mimetypes.guess_type(self.filename)[0] or "application/octet-stream"


@dataclass
class HTTPResult:
    """What the bot answered to a request this server sent it (status 0 = could not connect)."""

    status: int
    body: Any
    headers: dict[str, str]
    elapsed: float
    late: bool = False  # answered after Slack's 3 s ack deadline

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class CommandResult(HTTPResult):
    response_url_id: str = ""
    response_url: str = ""
    trigger_id: str = ""


@dataclass
class Delivery:
    """One request sent to the bot, and its answer."""

    kind: str  # "command", "event", "interaction"
    body: bytes
    headers: dict[str, str]
    result: HTTPResult
    at: float


@dataclass
class User:
    id: str
    name: str
    real_name: str
    display_name: str
    tz: str
    locale: str
    is_bot: bool
    email: str | None = None
    bot_id: str | None = None
    is_admin: bool = False
    is_owner: bool = False


@dataclass
class Channel:
    id: str
    name: str
    members: list[str]
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    im_user: str | None = None
    bot_member: bool = True
    created: int = 0
    topic: str = ""
    purpose: str = ""


@dataclass
class Canned:
    status: int
    body: JSONDict | None
    headers: dict[str, str]
    delay: float


@dataclass
class Trigger:
    id: str
    user_id: str
    issued: float
    used: bool = False


@dataclass
class ResponseURL:
    id: str
    kind: str  # "command" or "interaction"
    channel: str
    user: str
    created: float
    command: str | None = None
    text: str | None = None
    original_ts: str | None = None
    thread_ts: str | None = None
    posts: int = 0
    echoed: bool = False
    last_ts: str | None = None


class SlackError(Exception):
    """Raised inside a Web API method: becomes {"ok": false, "error": ...}."""

    def __init__(self, error: str, *, status: int = 200, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.messages = messages or []
