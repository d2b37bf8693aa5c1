"""A local, in-process Slack: the Web API the bot calls, and the Slack side that calls the bot.

Layout of this module (it is meant to grow a browser playground later):

1. Records: `Call`, `Message`, `File`, `HTTPResult`, `CommandResult`, `Delivery` and private state records.
2. Request/validation helpers: body decoding (JSON, urlencoded, multipart), argument access, Block Kit limits.
3. `LocalSlack`: directory (users, channels, IMs), recording and canned answers, Slack's state
   (messages, views, files, response URLs), the Web API methods (`_api_<method>`), the upload and
   response_url endpoints, and the "Slack towards the bot" drivers (`send_command`, `send_event`, ...).
4. `_Handler`: the HTTP routing. `POST /api/<method>`, `POST /upload/<file_id>`,
   `POST /response/<id>`, `GET /files/<file_id>[/<name>]`, `/playground/...` (the browser page's JSON
   API, when `LocalSlack.playground` is set); everything else under `/` goes to `_Handler.serve_static`
   (the playground's static files are served from `static_dir`).

Everything is stdlib: `http.server.ThreadingHTTPServer` on a daemon thread. All state is guarded by one
re-entrant lock; outbound requests to the bot are made without holding it (the bot calls back in).
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import logging
import mimetypes
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.localslack.signing import signed_headers
from bot.render.text import map_outside

__all__ = [
    "Call",
    "CommandResult",
    "Delivery",
    "File",
    "HTTPResult",
    "LocalSlack",
    "Message",
    "SlackError",
]

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]

MESSAGE_TEXT_LIMIT = 40_000
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
RESPONSE_URL_MAX_POSTS = 5
RESPONSE_URL_TTL = 30 * 60.0
MODAL_STACK_LIMIT = 3


# --------------------------------------------------------------------------------------------------
# 1. Records
# --------------------------------------------------------------------------------------------------


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
            parts.extend(_texts_in(self.blocks))
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
class _User:
    id: str
    name: str
    real_name: str
    display_name: str
    tz: str
    locale: str
    is_bot: bool
    email: str | None = None
    bot_id: str | None = None


@dataclass
class _Channel:
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
class _Canned:
    status: int
    body: JSONDict | None
    headers: dict[str, str]
    delay: float


@dataclass
class _Trigger:
    id: str
    user_id: str
    issued: float
    used: bool = False


@dataclass
class _ResponseURL:
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


# --------------------------------------------------------------------------------------------------
# 2. Helpers
# --------------------------------------------------------------------------------------------------


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _ts_key(ts: str | None) -> Decimal:
    if ts is None or ts == "":
        raise InvalidOperation("empty ts")
    return Decimal(str(ts))


# ---- message text as Slack delivers it ---------------------------------------------------------------

#: Slack's own markup in message text, as a client makes it (autocomplete, link detection):
#: <@U123>, <@U123|ana>, <#C123|general>, <!here>, <!subteam^S1|@team>, <https://x.y|label>, <mailto:a@b.c>
SLACK_MARKUP = re.compile(
    r"<(?:@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|![A-Za-z0-9^\-]+|(?:https?|mailto):[^<>|\s]+)(?:\|[^<>\n]*)?>"
)
_WIRE_ENTITY = re.compile(r"&(amp|lt|gt);")


def escape_text(text: str) -> str:
    """Escape `&`, `<` and `>` as Slack does in the text of messages and slash commands."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_escape(text: str) -> str:
    """A message as a person typed it → its `text` as Slack delivers it.

    Slack's markup spans in it (mentions, channels, special mentions, links: `SLACK_MARKUP`) stay as they
    are; every other `&`, `<`, `>` becomes `&amp;`, `&lt;`, `&gt;`: `R&D <again> <@U1>` →
    `R&amp;D &lt;again&gt; <@U1>`.
    """
    return map_outside(SLACK_MARKUP, text, escape_text)


def _unescape_text(text: str) -> str:
    return _WIRE_ENTITY.sub(lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], text)


def rich_text_elements(wire: str) -> list[JSONDict]:
    """The rich_text_section elements Slack puts in a typed message's block, from its (escaped) text:
    plain text unescaped, mentions as `user` / `channel` / `broadcast` elements, links as `link`."""
    elements: list[JSONDict] = []

    def text(part: str) -> None:
        if part:
            elements.append({"type": "text", "text": _unescape_text(part)})

    pos = 0
    for m in SLACK_MARKUP.finditer(wire):
        text(wire[pos : m.start()])
        target, _, label = m.group()[1:-1].partition("|")
        if target.startswith("@"):
            elements.append({"type": "user", "user_id": target[1:]})
        elif target.startswith("#"):
            elements.append({"type": "channel", "channel_id": target[1:]})
        elif target.startswith("!"):
            name = target[1:].split("^")[0]
            if name in ("here", "channel", "everyone"):
                elements.append({"type": "broadcast", "range": name})
            elif name == "subteam":
                elements.append({"type": "usergroup", "usergroup_id": target[1:].split("^")[1]})
            else:
                text(label or target[1:])
        else:
            link: JSONDict = {"type": "link", "url": _unescape_text(target)}
            if label:
                link["text"] = _unescape_text(label)
            elements.append(link)
        pos = m.end()
    text(wire[pos:])
    return elements or [{"type": "text", "text": ""}]


def _texts_in(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _texts_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts_in(item)


def _decode_form(raw: bytes) -> JSONDict:
    pairs = urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
    return dict(pairs)


def _decode_multipart(raw: bytes, content_type: str) -> tuple[JSONDict, dict[str, tuple[str | None, bytes]]]:
    """Return (text fields, file parts {name: (filename, bytes)})."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    fields: JSONDict = {}
    files: dict[str, tuple[str | None, bytes]] = {}
    if not msg.is_multipart():
        return fields, files
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, data)
        else:
            fields[name] = data.decode(part.get_content_charset() or "utf-8")
    return fields, files


def _decode_body(raw: bytes, content_type: str) -> JSONDict:
    """Decode a Web API request body. JSON-encoded form fields (blocks, metadata) stay strings."""
    ctype = content_type.split(";")[0].strip().lower()
    if not raw:
        return {}
    if ctype == "application/json":
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SlackError("invalid_json") from exc
        if not isinstance(value, dict):
            raise SlackError("json_not_object")
        return value
    if ctype == "multipart/form-data":
        fields, files = _decode_multipart(raw, content_type)
        args: JSONDict = dict(fields)
        for name, (_filename, data) in files.items():
            args[name] = data
        return args
    try:
        return _decode_form(raw)
    except UnicodeDecodeError as exc:
        raise SlackError("invalid_charset") from exc


def _str_arg(args: JSONDict, name: str) -> str | None:
    value = args.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _require(args: JSONDict, *names: str) -> None:
    missing = [n for n in names if args.get(n) in (None, "")]
    if missing:
        raise SlackError(
            "invalid_arguments", messages=[f"[ERROR] missing required field: {n}" for n in missing]
        )


def _json_arg(args: JSONDict, name: str, *, error: str = "invalid_arguments") -> Any:
    """A JSON-typed argument: already decoded in JSON bodies, a JSON string in form bodies."""
    value = args.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise SlackError(error, messages=[f"[ERROR] {name} is not valid JSON"]) from exc
    return value


def _int_arg(args: JSONDict, name: str, default: int) -> int:
    value = args.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise SlackError("invalid_arguments", messages=[f"[ERROR] {name} must be an integer"]) from exc


def _encode_cursor(kind: str, offset: int) -> str:
    return base64.b64encode(f"{kind}:{offset}".encode()).decode()


def _decode_cursor(kind: str, cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        prefix, _, number = base64.b64decode(cursor.encode()).decode().partition(":")
        if prefix != kind:
            raise ValueError(prefix)
        return int(number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SlackError("invalid_cursor") from exc


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "workspace"


# ---- Block Kit limits (the ones the README lists; Slack rejects the whole message/view) -------------


def _text_errors(obj: Any, pointer: str, limit: int, errors: list[str]) -> None:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        errors.append(f"[ERROR] must be a text object [json-pointer:{pointer}]")
        return
    if obj.get("type") not in ("plain_text", "mrkdwn"):
        errors.append(f"[ERROR] must be plain_text or mrkdwn [json-pointer:{pointer}/type]")
    text = obj["text"]
    if len(text) == 0:
        errors.append(f"[ERROR] must be more than 0 characters [json-pointer:{pointer}/text]")
    elif len(text) > limit:
        errors.append(f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}/text]")


def _element_errors(element: Any, pointer: str, errors: list[str]) -> None:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        errors.append(f"[ERROR] must be an element object [json-pointer:{pointer}]")
        return
    action_id = element.get("action_id")
    if isinstance(action_id, str) and len(action_id) > 255:
        errors.append(f"[ERROR] must be less than 256 characters [json-pointer:{pointer}/action_id]")
    if element["type"] == "button":
        _text_errors(element.get("text"), f"{pointer}/text", 75, errors)
        value = element.get("value")
        if isinstance(value, str) and len(value) > 2000:
            errors.append(f"[ERROR] must be less than 2001 characters [json-pointer:{pointer}/value]")
        url = element.get("url")
        if isinstance(url, str) and len(url) > 3000:
            errors.append(f"[ERROR] must be less than 3001 characters [json-pointer:{pointer}/url]")


def block_errors(blocks: Any, *, limit: int) -> list[str]:
    """Slack-style error strings for the Block Kit limits most likely to bite; [] when fine."""
    errors: list[str] = []
    if not isinstance(blocks, list):
        return ["[ERROR] must be an array [json-pointer:/blocks]"]
    if len(blocks) > limit:
        errors.append(f"[ERROR] no more than {limit} items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        ptr = f"/blocks/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"[ERROR] must be a block object [json-pointer:{ptr}]")
            continue
        block_id = block.get("block_id")
        if isinstance(block_id, str) and len(block_id) > 255:
            errors.append(f"[ERROR] must be less than 256 characters [json-pointer:{ptr}/block_id]")
        kind = block["type"]
        if kind == "section":
            if "text" in block:
                _text_errors(block["text"], f"{ptr}/text", 3000, errors)
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    errors.append(f"[ERROR] no more than 10 items allowed [json-pointer:{ptr}/fields]")
                else:
                    for j, f in enumerate(fields):
                        _text_errors(f, f"{ptr}/fields/{j}", 2000, errors)
            if "text" not in block and not fields:
                errors.append(f"[ERROR] must provide text or fields [json-pointer:{ptr}]")
            if "accessory" in block:
                _element_errors(block["accessory"], f"{ptr}/accessory", errors)
        elif kind == "header":
            _text_errors(block.get("text"), f"{ptr}/text", 150, errors)
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements or len(elements) > 25:
                errors.append(f"[ERROR] must have 1 to 25 elements [json-pointer:{ptr}/elements]")
            else:
                for j, el in enumerate(elements):
                    _element_errors(el, f"{ptr}/elements/{j}", errors)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements or len(elements) > 10:
                errors.append(f"[ERROR] must have 1 to 10 elements [json-pointer:{ptr}/elements]")
        elif kind == "input":
            _text_errors(block.get("label"), f"{ptr}/label", 2000, errors)
            _element_errors(block.get("element"), f"{ptr}/element", errors)
    return errors


def view_errors(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["[ERROR] must be an object [json-pointer:/view]"]
    errors: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        errors.append("[ERROR] must be modal or home [json-pointer:/view/type]")
    if kind == "modal" or "title" in view:
        _text_errors(view.get("title"), "/view/title", 24, errors)
    for key in ("submit", "close"):
        if view.get(key) is not None:
            _text_errors(view[key], f"/view/{key}", 24, errors)
    pm = view.get("private_metadata")
    if isinstance(pm, str) and len(pm) > 3000:
        errors.append("[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]")
    cb = view.get("callback_id")
    if isinstance(cb, str) and len(cb) > 255:
        errors.append("[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]")
    blocks = view.get("blocks", [])
    errors.extend(
        e.replace("json-pointer:/blocks", "json-pointer:/view/blocks")
        for e in block_errors(blocks, limit=VIEW_BLOCK_LIMIT)
    )
    if (
        kind == "modal"
        and isinstance(blocks, list)
        and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        and not view.get("submit")
    ):
        errors.append("[ERROR] must provide submit when using input blocks [json-pointer:/view/submit]")
    return errors


# ---- view state for submissions ---------------------------------------------------------------------


def _find_option(element: JSONDict, value: str) -> JSONDict | None:
    options: list[Any] = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        if isinstance(group, dict):
            options.extend(group.get("options") or [])
    for opt in options:
        if isinstance(opt, dict) and opt.get("value") == value:
            return opt
    return None


def _state_value(element: JSONDict, value: Any) -> JSONDict:
    """Turn a convenient Python value into the `state.values` entry Slack sends for `element`."""
    etype = str(element.get("type"))
    if isinstance(value, dict):
        return {"type": etype, **value}
    if etype in ("static_select", "radio_buttons", "external_select"):
        if value is None:
            return {"type": etype, "selected_option": None}
        opt = _find_option(element, str(value)) or {
            "text": {"type": "plain_text", "text": str(value)},
            "value": str(value),
        }
        return {"type": etype, "selected_option": opt}
    if etype in ("multi_static_select", "checkboxes", "multi_external_select"):
        values = [] if value is None else list(value)
        opts = [_find_option(element, str(v)) or {"value": str(v)} for v in values]
        return {"type": etype, "selected_options": opts}
    if etype == "datepicker":
        return {"type": etype, "selected_date": value}
    if etype == "timepicker":
        return {"type": etype, "selected_time": value}
    if etype == "datetimepicker":
        return {"type": etype, "selected_date_time": value}
    if etype == "users_select":
        return {"type": etype, "selected_user": value}
    if etype == "multi_users_select":
        return {"type": etype, "selected_users": [] if value is None else list(value)}
    if etype == "conversations_select":
        return {"type": etype, "selected_conversation": value}
    if etype == "multi_conversations_select":
        return {"type": etype, "selected_conversations": [] if value is None else list(value)}
    if etype == "channels_select":
        return {"type": etype, "selected_channel": value}
    if etype == "multi_channels_select":
        return {"type": etype, "selected_channels": [] if value is None else list(value)}
    return {"type": etype, "value": None if value is None else str(value)}


def _input_elements(blocks: Any) -> Iterable[tuple[str, str, JSONDict]]:
    """(block_id, action_id, element) for every stateful element of a view."""
    for block in blocks or []:
        if not isinstance(block, dict):
            continue
        block_id = str(block.get("block_id", ""))
        if block.get("type") == "input" and isinstance(block.get("element"), dict):
            el = block["element"]
            yield block_id, str(el.get("action_id", "")), el
        elif block.get("type") == "actions":
            for el in block.get("elements") or []:
                if isinstance(el, dict) and el.get("type") != "button":
                    yield block_id, str(el.get("action_id", "")), el
        elif block.get("type") == "section" and isinstance(block.get("accessory"), dict):
            el = block["accessory"]
            if el.get("type") not in ("button", "image", "overflow"):
                yield block_id, str(el.get("action_id", "")), el


def _find_action(blocks: Any, action_id: str, block_id: str | None = None) -> tuple[str, JSONDict] | None:
    for block in blocks or []:
        if not isinstance(block, dict):
            continue
        if block_id is not None and str(block.get("block_id", "")) != block_id:
            continue
        candidates: list[Any] = []
        if block.get("type") == "actions":
            candidates = list(block.get("elements") or [])
        elif block.get("type") == "section" and block.get("accessory") is not None:
            candidates = [block["accessory"]]
        elif block.get("type") == "input" and block.get("element") is not None:
            candidates = [block["element"]]
        for el in candidates:
            if isinstance(el, dict) and el.get("action_id") == action_id:
                return str(block.get("block_id", "")), el
    return None


def _ensure_block_ids(blocks: Any) -> Any:
    """Slack assigns a random block_id to blocks sent without one (and action_ids to elements)."""
    if not isinstance(blocks, list):
        return blocks
    out = []
    for i, block in enumerate(blocks):
        if isinstance(block, dict) and "block_id" not in block:
            block = {**block, "block_id": base64.b32encode(f"b{i}".encode()).decode().strip("=")[:5]}
        out.append(block)
    return out


# --------------------------------------------------------------------------------------------------
# 3. LocalSlack
# --------------------------------------------------------------------------------------------------


class LocalSlack:
    """A Slack workspace on localhost. See the module docstring for the routes."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        team_id: str = "T0001",
        team_name: str = "Acme Marketing",
        bot_token: str = "xoxb-local-token",
        signing_secret: str = "local-signing-secret",
        bot_url: str | None = None,
        bot_user_id: str = "U0LOCALBOT",
        bot_id: str = "B0LOCALBOT",
        bot_name: str = "mktbot",
        app_id: str = "A0LOCALAPP",
        verification_token: str = "local-verification-token",
        scopes: str = "chat:write,commands,users:read,channels:history,im:write,files:write,reactions:write",
        trigger_ttl: float = 3.0,
        ack_timeout: float = 3.0,
        delivery_timeout: float = 15.0,
        clock: Callable[[], float] = time.time,
        static_dir: str | Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = _slug(team_name)
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self.bot_url = bot_url
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.app_id = app_id
        self.verification_token = verification_token
        self.scopes = scopes
        #: seconds every Web API answer waits (a slow Slack); canned answers keep their own delay
        self.api_delay = 0.0
        self.trigger_ttl = trigger_ttl
        self.ack_timeout = ack_timeout
        self.delivery_timeout = delivery_timeout
        self.clock = clock
        self.static_dir = Path(static_dir) if static_dir is not None else None
        #: answers `/playground/...` for the browser page (bot.localslack.playground_api.PlaygroundAPI)
        self.playground: Any = None

        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

        # directory
        self._users: dict[str, _User] = {}
        self._channels: dict[str, _Channel] = {}
        self._ims: dict[str, str] = {}  # user id -> D… id
        self._counter = 0

        # recorded traffic and Slack's state
        self.calls: list[Call] = []
        self.messages: list[Message] = []
        self.views: list[JSONDict] = []
        self.files: dict[str, File] = {}
        self.responses: list[JSONDict] = []
        self.deliveries: list[Delivery] = []
        self._canned: dict[str, deque[_Canned]] = {}
        self._drops: dict[str, int] = {}  # method -> answers still to drop after doing the call
        self._last_ts_micros = 0
        self._triggers: dict[str, _Trigger] = {}
        self._response_urls: dict[str, _ResponseURL] = {}
        self._view_objects: dict[str, JSONDict] = {}
        self._modal_stacks: dict[str, list[str]] = {}
        self._home_views: dict[str, str] = {}  # user id -> view id

        self._methods: dict[str, Callable[[JSONDict], JSONDict]] = {
            "api.test": self._api_api_test,
            "auth.test": self._api_auth_test,
            "team.info": self._api_team_info,
            "chat.postMessage": self._api_chat_postMessage,
            "chat.postEphemeral": self._api_chat_postEphemeral,
            "chat.update": self._api_chat_update,
            "chat.delete": self._api_chat_delete,
            "chat.getPermalink": self._api_chat_getPermalink,
            "users.info": self._api_users_info,
            "users.list": self._api_users_list,
            "conversations.info": self._api_conversations_info,
            "conversations.list": self._api_conversations_list,
            "conversations.members": self._api_conversations_members,
            "conversations.open": self._api_conversations_open,
            "conversations.history": self._api_conversations_history,
            "conversations.replies": self._api_conversations_replies,
            "views.open": self._api_views_open,
            "views.push": self._api_views_push,
            "views.update": self._api_views_update,
            "views.publish": self._api_views_publish,
            "files.getUploadURLExternal": self._api_files_getUploadURLExternal,
            "files.completeUploadExternal": self._api_files_completeUploadExternal,
            "files.info": self._api_files_info,
            "reactions.add": self._api_reactions_add,
            "reactions.remove": self._api_reactions_remove,
        }

        self._add_user_record(
            _User(
                id=bot_user_id,
                name=bot_name,
                real_name=bot_name,
                display_name=bot_name,
                tz="America/Los_Angeles",
                locale="en-US",
                is_bot=True,
                bot_id=bot_id,
            )
        )

    # ---- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> LocalSlack:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _Server((self.host, self.port), _Handler)
        httpd.slack = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"localslack:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> LocalSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def stopping(self) -> threading.Event:
        return self._stopping

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("LocalSlack is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # ---- ids and time --------------------------------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}{self._counter:08d}"

    def _next_ts(self) -> str:
        with self._lock:
            micros = max(int(self.clock() * 1_000_000), self._last_ts_micros + 1)
            self._last_ts_micros = micros
            return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # ---- directory -----------------------------------------------------------------------------------

    def _add_user_record(self, user: _User) -> None:
        with self._lock:
            self._users[user.id] = user

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str | None = None,
        tz: str = "Asia/Shanghai",
        locale: str = "en-US",
        is_bot: bool = False,
        display_name: str | None = None,
        email: str | None = None,
    ) -> None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{tz!r} is not an IANA time zone") from exc
        self._add_user_record(
            _User(
                id=user_id,
                name=name,
                real_name=real_name if real_name is not None else name,
                display_name=display_name if display_name is not None else name,
                tz=tz,
                locale=locale,
                is_bot=is_bot,
                email=email,
                bot_id=f"B{user_id[1:]}" if is_bot else None,
            )
        )

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        members: list[str] | None = None,
        is_private: bool = False,
        bot_member: bool = True,
        topic: str = "",
        purpose: str = "",
    ) -> None:
        with self._lock:
            self._channels[channel_id] = _Channel(
                id=channel_id,
                name=name.lstrip("#"),
                members=list(members or []),
                is_private=is_private,
                bot_member=bot_member,
                created=int(self.clock()),
                topic=topic,
                purpose=purpose,
            )

    def im_channel(self, user_id: str) -> str:
        """The DM channel between the app and `user_id` (created on first use, then stable)."""
        with self._lock:
            if user_id not in self._users:
                raise SlackError("user_not_found")
            if user_id not in self._ims:
                cid = self._next_id("D")
                self._ims[user_id] = cid
                self._channels[cid] = _Channel(
                    id=cid,
                    name=user_id,
                    members=[user_id],
                    is_im=True,
                    im_user=user_id,
                    created=int(self.clock()),
                )
            return self._ims[user_id]

    def _resolve_channel(self, ref: str | None) -> _Channel:
        """A channel id, an IM for a user id (Slack posts to the app's DM), or a #name."""
        if not ref:
            raise SlackError("channel_not_found")
        with self._lock:
            if ref in self._channels:
                return self._channels[ref]
            if ref in self._users:
                return self._channels[self.im_channel(ref)]
            name = ref.lstrip("#")
            for ch in self._channels.values():
                if not ch.is_im and ch.name == name:
                    return ch
        raise SlackError("channel_not_found")

    def _known_user(self, user_id: str) -> _User:
        """For the drivers: a clear error when a test forgot add_user."""
        with self._lock:
            if user_id not in self._users:
                raise ValueError(f"unknown user {user_id!r}: call add_user() first")
            return self._users[user_id]

    def _known_channel(self, channel: str) -> _Channel:
        try:
            return self._resolve_channel(channel)
        except SlackError as exc:
            raise ValueError(f"unknown channel {channel!r}: call add_channel() first") from exc

    def _user(self, user_id: str | None) -> _User:
        with self._lock:
            if user_id is None or user_id not in self._users:
                raise SlackError("user_not_found")
            return self._users[user_id]

    # ---- recording and canned answers ---------------------------------------------------------------

    def get_calls(self, method: str) -> list[JSONDict]:
        with self._lock:
            return [c.args for c in self.calls if c.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        where: Callable[[JSONDict], bool] | None = None,
    ) -> list[JSONDict]:
        """Wait until `count` calls of `method` (matching `where`) were handled; return their args."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [a for a in self.get_calls(method) if where is None or where(a)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for {count} {method} call(s)"
                        f"{' matching the filter' if where else ''}; got {len(found)}.\n{self.dump()}"
                    )
                self._changed.wait(min(remaining, 0.1))

    def wait_for_message(
        self,
        channel: str | None = None,
        *,
        where: Callable[[Message], bool] | None = None,
        include_ephemeral: bool = True,
        timeout: float = 5.0,
    ) -> Message:
        """Wait for a (non-deleted) message in `channel` matching `where`; return the first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for m in self.messages:
                    if m.deleted or (m.is_ephemeral and not include_ephemeral):
                        continue
                    if channel is not None and m.channel != channel:
                        continue
                    if where is None or where(m):
                        return m
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for a message in {channel}.\n{self.dump()}"
                    )
                self._changed.wait(min(remaining, 0.1))

    def dump(self, limit: int = 40) -> str:
        """Human-readable summary of recent calls, messages and deliveries (used in assertion errors)."""
        with self._lock:
            lines = [f"-- last {min(limit, len(self.calls))} of {len(self.calls)} Web API calls:"]
            for c in self.calls[-limit:]:
                args = {k: v for k, v in c.args.items() if k != "token"}
                lines.append(f"  {c.method} {json.dumps(args, default=repr, ensure_ascii=False)[:300]}")
            lines.append(f"-- last {min(limit, len(self.messages))} of {len(self.messages)} messages:")
            for m in self.messages[-limit:]:
                flags = "".join(
                    [
                        " (ephemeral to " + m.ephemeral_user + ")" if m.ephemeral_user else "",
                        " (deleted)" if m.deleted else "",
                    ]
                )
                thread = f" thread={m.thread_ts}" if m.thread_ts else ""
                lines.append(f"  {m.channel} {m.ts}{thread} <{m.user}>{flags}: {m.all_text()[:200]!r}")
            if self.deliveries:
                lines.append(f"-- last {min(limit, len(self.deliveries))} deliveries to the bot:")
                for d in self.deliveries[-limit:]:
                    lines.append(
                        f"  {d.kind} -> {d.result.status} in {d.result.elapsed:.2f}s: {str(d.result.body)[:200]!r}"
                    )
            return "\n".join(lines)

    def add_response(
        self,
        method: str,
        *,
        status: int = 200,
        body: JSONDict | None = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Queue a canned answer for the next `times` calls of `method` (FIFO). It replaces the normal
        behaviour entirely: nothing is stored. Defaults: 429 → ratelimited + Retry-After: 1."""
        hdrs = dict(headers or {})
        if body is None:
            if status == 429:
                body = {"ok": False, "error": "ratelimited"}
            elif status >= 400:
                body = {"ok": False, "error": "fatal_error"}
            else:
                body = {"ok": True}
        if status == 429 and not any(k.lower() == "retry-after" for k in hdrs):
            hdrs["Retry-After"] = "1"
        with self._lock:
            queue = self._canned.setdefault(method, deque())
            for _ in range(times):
                queue.append(_Canned(status=status, body=body, headers=hdrs, delay=delay))

    def drop_answer(self, method: str, *, times: int = 1) -> None:
        """Do the next `times` calls of `method` for real, then close the connection without answering: the
        caller cannot tell whether Slack did it (a timeout or a dropped connection after the work was done)."""
        with self._lock:
            self._drops[method] = self._drops.get(method, 0) + times

    def reset(self) -> None:
        """Forget calls, messages, views, files, responses, deliveries and canned answers (keep the
        directory: users, channels, IMs)."""
        with self._lock:
            self.calls.clear()
            self.messages.clear()
            self.views.clear()
            self.files.clear()
            self.responses.clear()
            self.deliveries.clear()
            self._canned.clear()
            self._drops.clear()
            self._triggers.clear()
            self._response_urls.clear()
            self._view_objects.clear()
            self._modal_stacks.clear()
            self._home_views.clear()
        self._notify()

    # ---- state queries -------------------------------------------------------------------------------

    def channel_messages(
        self,
        channel: str,
        *,
        include_ephemeral: bool = False,
        thread_ts: str | None = None,
        top_level: bool = False,
        include_deleted: bool = False,
    ) -> list[Message]:
        """Messages of `channel`, oldest first. `thread_ts` → the thread's parent and replies;
        `top_level` → only what shows in the channel (no thread replies unless broadcast)."""
        with self._lock:
            cid = self._resolve_channel(channel).id if channel in self._users else channel
            out = []
            for m in self.messages:
                if m.channel != cid or (m.deleted and not include_deleted):
                    continue
                if m.is_ephemeral and not include_ephemeral:
                    continue
                if thread_ts is not None and not (m.ts == thread_ts or m.thread_ts == thread_ts):
                    continue
                if top_level and m.thread_ts is not None and m.thread_ts != m.ts and not m.reply_broadcast:
                    continue
                out.append(m)
            return out

    def get_message(self, channel: str, ts: str) -> Message | None:
        with self._lock:
            for m in self.messages:
                if m.channel == channel and m.ts == ts:
                    return m
            return None

    def ephemeral_messages(self, user_id: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if m.ephemeral_user == user_id and not m.deleted]

    def get_view(self, view_id: str) -> JSONDict | None:
        """The current full view object (as Slack would send it in a view_submission)."""
        with self._lock:
            return self._view_objects.get(view_id)

    def open_views(self, user_id: str) -> list[JSONDict]:
        """The user's modal stack, bottom first."""
        with self._lock:
            return [self._view_objects[v] for v in self._modal_stacks.get(user_id, [])]

    def home_view(self, user_id: str) -> JSONDict | None:
        with self._lock:
            vid = self._home_views.get(user_id)
            return self._view_objects.get(vid) if vid else None

    # ---- JSON shapes ---------------------------------------------------------------------------------

    def _bot_profile(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "deleted": False,
            "name": self.bot_name,
            "updated": 1700000000,
            "app_id": self.app_id,
            "icons": {"image_36": "", "image_48": "", "image_72": ""},
            "team_id": self.team_id,
        }

    def _message_json(self, m: Message, *, include_metadata: bool = True) -> JSONDict:
        out: JSONDict = {"type": "message"}
        if m.reply_broadcast:
            out["subtype"] = "thread_broadcast"
        if m.client_msg_id:
            out["client_msg_id"] = m.client_msg_id
        if m.bot_id:
            out["bot_id"] = m.bot_id
        out.update({"text": m.text, "user": m.user, "ts": m.ts, "team": self.team_id})
        if m.app_id:
            out["app_id"] = m.app_id
        if m.blocks is not None:
            out["blocks"] = m.blocks
        if m.attachments:
            out["attachments"] = m.attachments
        if m.files:
            out["files"] = m.files
            out["upload"] = True
            out["display_as_bot"] = False
        if m.bot_id == self.bot_id:
            out["bot_profile"] = self._bot_profile()
        if m.edited_ts:
            out["edited"] = {"user": m.user, "ts": m.edited_ts}
        if m.reactions:
            out["reactions"] = [
                {"name": n, "users": list(us), "count": len(us)} for n, us in m.reactions.items() if us
            ]
        if m.metadata is not None and include_metadata:
            out["metadata"] = m.metadata
        with self._lock:
            if m.thread_ts and m.thread_ts != m.ts:
                out["thread_ts"] = m.thread_ts
                parent = self.get_message(m.channel, m.thread_ts)
                if parent is not None:
                    out["parent_user_id"] = parent.user
            else:
                replies = [
                    r
                    for r in self.messages
                    if r.channel == m.channel
                    and r.thread_ts == m.ts
                    and r.ts != m.ts
                    and not r.deleted
                    and not r.is_ephemeral
                ]
                if replies:
                    users = list(dict.fromkeys(r.user for r in replies))
                    out.update(
                        {
                            "thread_ts": m.ts,
                            "reply_count": len(replies),
                            "reply_users_count": len(users),
                            "latest_reply": replies[-1].ts,
                            "reply_users": users,
                            "is_locked": False,
                            "subscribed": False,
                        }
                    )
        return out

    def _user_json(self, u: _User, *, include_locale: bool) -> JSONDict:
        zone = ZoneInfo(u.tz)
        now = datetime.now(zone)
        offset = now.utcoffset()
        first, _, last = u.real_name.partition(" ")
        profile: JSONDict = {
            "title": "",
            "phone": "",
            "skype": "",
            "real_name": u.real_name,
            "real_name_normalized": u.real_name,
            "display_name": u.display_name,
            "display_name_normalized": u.display_name,
            "status_text": "",
            "status_emoji": "",
            "first_name": first,
            "last_name": last,
            "image_24": "",
            "image_48": "",
            "team": self.team_id,
        }
        if u.email:
            profile["email"] = u.email
        if u.bot_id:
            profile["bot_id"] = u.bot_id
            profile["api_app_id"] = self.app_id if u.id == self.bot_user_id else ""
        out: JSONDict = {
            "id": u.id,
            "team_id": self.team_id,
            "name": u.name,
            "deleted": False,
            "color": "9f69e7",
            "real_name": u.real_name,
            "tz": u.tz,
            "tz_label": now.tzname() or u.tz,
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": u.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
            "is_email_confirmed": not u.is_bot,
        }
        if include_locale:
            out["locale"] = u.locale
        return out

    def _channel_json(
        self, ch: _Channel, *, include_num_members: bool = False, include_locale: bool = False
    ) -> JSONDict:
        if ch.is_im:
            out: JSONDict = {
                "id": ch.id,
                "created": ch.created,
                "is_archived": False,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": self.team_id,
                "updated": ch.created * 1000,
                "user": ch.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        else:
            out = {
                "id": ch.id,
                "name": ch.name,
                "is_channel": not ch.is_private and not ch.is_mpim,
                "is_group": ch.is_private and not ch.is_mpim,
                "is_im": False,
                "is_mpim": ch.is_mpim,
                "is_private": ch.is_private or ch.is_mpim,
                "created": ch.created,
                "is_archived": False,
                "is_general": ch.name == "general",
                "unlinked": 0,
                "name_normalized": ch.name,
                "is_shared": False,
                "is_org_shared": False,
                "is_pending_ext_shared": False,
                "pending_shared": [],
                "context_team_id": self.team_id,
                "updated": ch.created * 1000,
                "creator": "",
                "is_ext_shared": False,
                "shared_team_ids": [self.team_id],
                "is_member": ch.bot_member,
                "topic": {"value": ch.topic, "creator": "", "last_set": 0},
                "purpose": {"value": ch.purpose, "creator": "", "last_set": 0},
                "previous_names": [],
            }
        if include_num_members:
            out["num_members"] = len(self._channel_members(ch))
        if include_locale:
            out["locale"] = "en-US"
        return out

    def _channel_members(self, ch: _Channel) -> list[str]:
        members = list(ch.members)
        if (ch.bot_member or ch.is_im) and self.bot_user_id not in members:
            members.append(self.bot_user_id)
        return members

    def _file_json(self, f: File) -> JSONDict:
        base = self.base_url
        shares_public: JSONDict = {}
        shares_private: JSONDict = {}
        channels, groups, ims = [], [], []
        for cid, ts in f.shares:
            ch = self._channels.get(cid)
            entry = {
                "reply_users": [],
                "reply_users_count": 0,
                "reply_count": 0,
                "ts": ts,
                "channel_name": ch.name if ch else cid,
                "team_id": self.team_id,
                "share_user_id": f.user,
                "source": "UNKNOWN",
                "is_silent_share": False,
            }
            if ch is not None and ch.is_im:
                ims.append(cid)
                shares_private.setdefault(cid, []).append(entry)
            elif ch is not None and (ch.is_private or ch.is_mpim):
                groups.append(cid)
                shares_private.setdefault(cid, []).append(entry)
            else:
                channels.append(cid)
                shares_public.setdefault(cid, []).append(entry)
        ext = f.filename.rsplit(".", 1)[-1].lower() if "." in f.filename else "binary"
        shares: JSONDict = {}
        if shares_public:
            shares["public"] = shares_public
        if shares_private:
            shares["private"] = shares_private
        return {
            "id": f.id,
            "created": f.created,
            "timestamp": f.created,
            "name": f.filename,
            "title": f.title if f.title is not None else f.filename,
            "mimetype": f.mimetype,
            "filetype": ext,
            "pretty_type": ext.upper(),
            "user": f.user,
            "user_team": self.team_id,
            "editable": False,
            "size": f.size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(shares_public),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{base}/files/{f.id}/{urllib.parse.quote(f.filename)}",
            "url_private_download": f"{base}/files/{f.id}/download/{urllib.parse.quote(f.filename)}",
            "permalink": f"{base}/files/{f.user}/{f.id}/{urllib.parse.quote(f.filename)}",
            "permalink_public": f"{base}/files/public/{f.id}",
            "comments_count": 0,
            "is_starred": False,
            "shares": shares,
            "channels": channels,
            "groups": groups,
            "ims": ims,
            "has_more_shares": False,
            "has_rich_preview": False,
            "file_access": "visible",
            **({"alt_txt": f.alt_txt} if f.alt_txt else {}),
        }

    # ---- Web API dispatch ----------------------------------------------------------------------------

    def handle_api(
        self, method: str, args: JSONDict, headers: dict[str, str], *, decode_error: SlackError | None = None
    ) -> tuple[int, JSONDict, dict[str, str], float]:
        """Record the call, then answer: (status, JSON body, extra headers, delay before answering)."""
        with self._lock:
            self.calls.append(Call(method=method, args=args, headers=headers, at=time.time()))
            try:
                if decode_error is not None:
                    raise decode_error
                self._check_auth(args, headers)
                queue = self._canned.get(method)
                if queue:
                    canned = queue.popleft()
                    return canned.status, dict(canned.body or {}), canned.headers, canned.delay
                handler = self._methods.get(method)
                if handler is None:
                    raise SlackError("unknown_method")
                body = handler(args)
                if self._drops.get(method):
                    self._drops[method] -= 1
                    return 0, {}, {}, 0.0  # done; _Handler drops the connection instead of answering
                extra = {"x-oauth-scopes": self.scopes} if method == "auth.test" else {}
                return 200, {"ok": True, **body}, extra, self.api_delay
            except SlackError as err:
                out: JSONDict = {"ok": False, "error": err.error}
                if err.messages:
                    out["response_metadata"] = {"messages": err.messages}
                return err.status, out, {}, self.api_delay
            finally:
                self._changed.notify_all()

    def _check_auth(self, args: JSONDict, headers: dict[str, str]) -> None:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        token: str | None = None
        if auth is not None:
            scheme, _, value = auth.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise SlackError("invalid_auth")
            token = value.strip()
        elif isinstance(args.get("token"), str) and args["token"]:
            token = args["token"]
        if token is None:
            raise SlackError("not_authed")
        if token != self.bot_token:
            raise SlackError("invalid_auth")

    # ---- auth / team ---------------------------------------------------------------------------------

    def _api_api_test(self, args: JSONDict) -> JSONDict:
        return {"args": {k: v for k, v in args.items() if k != "token"}} if args else {}

    def _api_auth_test(self, args: JSONDict) -> JSONDict:
        return {
            "url": f"{self.base_url}/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _api_team_info(self, args: JSONDict) -> JSONDict:
        return {
            "team": {
                "id": self.team_id,
                "name": self.team_name,
                "domain": self.team_domain,
                "email_domain": "",
                "icon": {"image_default": True},
                "url": f"{self.base_url}/",
            }
        }

    # ---- chat ----------------------------------------------------------------------------------------

    def _message_content(
        self, args: JSONDict, *, require_content: bool = True
    ) -> tuple[str, list[JSONDict] | None, list[JSONDict] | None]:
        text = _str_arg(args, "text") or ""
        blocks = _json_arg(args, "blocks", error="invalid_blocks")
        attachments = _json_arg(args, "attachments", error="invalid_attachments")
        if blocks is not None:
            errors = block_errors(blocks, limit=MESSAGE_BLOCK_LIMIT)
            if errors:
                raise SlackError("invalid_blocks", messages=errors)
            blocks = _ensure_block_ids(blocks)
        if attachments is not None and not isinstance(attachments, list):
            raise SlackError("invalid_attachments")
        if require_content and not text and not blocks and not attachments:
            raise SlackError("no_text")
        if len(text) > MESSAGE_TEXT_LIMIT:
            text = text[:MESSAGE_TEXT_LIMIT]
        return text, blocks, attachments

    def _metadata_arg(self, args: JSONDict) -> JSONDict | None:
        metadata = _json_arg(args, "metadata", error="invalid_metadata_format")
        if metadata is None:
            return None
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            raise SlackError("invalid_metadata_format")
        return metadata

    def _store(self, message: Message) -> Message:
        with self._lock:
            self.messages.append(message)
            self._changed.notify_all()
        return message

    def _api_chat_postMessage(self, args: JSONDict) -> JSONDict:
        _require(args, "channel")
        ch = self._resolve_channel(_str_arg(args, "channel"))
        text, blocks, attachments = self._message_content(args)
        metadata = self._metadata_arg(args)
        thread_ts = _str_arg(args, "thread_ts") or None
        m = self._store(
            Message(
                channel=ch.id,
                ts=self._next_ts(),
                text=text,
                user=self.bot_user_id,
                blocks=blocks,
                thread_ts=thread_ts,
                metadata=metadata,
                bot_id=self.bot_id,
                app_id=self.app_id,
                attachments=attachments,
                reply_broadcast=bool(thread_ts) and _truthy(args.get("reply_broadcast")),
                source="chat.postMessage",
            )
        )
        return {"channel": ch.id, "ts": m.ts, "message": self._message_json(m)}

    def _api_chat_postEphemeral(self, args: JSONDict) -> JSONDict:
        _require(args, "channel", "user")
        ch = self._resolve_channel(_str_arg(args, "channel"))
        user = self._user(_str_arg(args, "user"))
        text, blocks, attachments = self._message_content(args)
        m = self._store(
            Message(
                channel=ch.id,
                ts=self._next_ts(),
                text=text,
                user=self.bot_user_id,
                blocks=blocks,
                thread_ts=_str_arg(args, "thread_ts") or None,
                ephemeral_user=user.id,
                bot_id=self.bot_id,
                app_id=self.app_id,
                attachments=attachments,
                source="chat.postEphemeral",
            )
        )
        return {"message_ts": m.ts}

    def _edit(
        self,
        m: Message,
        *,
        text: str | None,
        blocks: list[JSONDict] | None,
        metadata: JSONDict | None,
        via: str,
        attachments: list[JSONDict] | None = None,
    ) -> None:
        m.history.append(
            {
                "text": m.text,
                "blocks": m.blocks,
                "metadata": m.metadata,
                "attachments": m.attachments,
                "replaced_at": time.time(),
                "via": via,
            }
        )
        if text is not None:
            m.text = text
        if blocks is not None:
            m.blocks = blocks
        if attachments is not None:
            m.attachments = attachments
        if metadata is not None:
            m.metadata = metadata
        m.edited_ts = self._next_ts()

    def _api_chat_update(self, args: JSONDict) -> JSONDict:
        _require(args, "channel", "ts")
        ch = self._resolve_channel(_str_arg(args, "channel"))
        m = self.get_message(ch.id, str(args["ts"]))
        if m is None or m.deleted or m.is_ephemeral:
            raise SlackError("message_not_found")
        if m.user != self.bot_user_id:
            raise SlackError("cant_update_message")
        text, blocks, attachments = self._message_content(args, require_content=False)
        if not text and blocks is None and attachments is None and "text" not in args:
            raise SlackError("no_text")
        self._edit(
            m,
            text=text if ("text" in args or blocks is None) else None,
            blocks=blocks,
            metadata=self._metadata_arg(args),
            attachments=attachments,
            via="chat.update",
        )
        self._notify()
        return {"channel": ch.id, "ts": m.ts, "text": m.text, "message": self._message_json(m)}

    def _api_chat_delete(self, args: JSONDict) -> JSONDict:
        _require(args, "channel", "ts")
        ch = self._resolve_channel(_str_arg(args, "channel"))
        m = self.get_message(ch.id, str(args["ts"]))
        if m is None or m.deleted or m.is_ephemeral:
            raise SlackError("message_not_found")
        if m.user != self.bot_user_id:
            raise SlackError("cant_delete_message")
        m.deleted = True
        self._notify()
        return {"channel": ch.id, "ts": m.ts}

    def _permalink(self, channel: str, ts: str, thread_ts: str | None = None) -> str:
        link = f"{self.base_url}/archives/{channel}/p{ts.replace('.', '')}"
        if thread_ts and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={channel}"
        return link

    def _api_chat_getPermalink(self, args: JSONDict) -> JSONDict:
        _require(args, "channel", "message_ts")
        ch = self._resolve_channel(_str_arg(args, "channel"))
        m = self.get_message(ch.id, str(args["message_ts"]))
        if m is None or m.deleted:
            raise SlackError("message_not_found")
        return {"channel": ch.id, "permalink": self._permalink(ch.id, m.ts, m.thread_ts)}

    # ---- users ---------------------------------------------------------------------------------------

    def _api_users_info(self, args: JSONDict) -> JSONDict:
        _require(args, "user")
        user = self._user(_str_arg(args, "user"))
        return {"user": self._user_json(user, include_locale=_truthy(args.get("include_locale")))}

    def _api_users_list(self, args: JSONDict) -> JSONDict:
        limit = _int_arg(args, "limit", 0)
        offset = _decode_cursor("user", _str_arg(args, "cursor"))
        with self._lock:
            users = list(self._users.values())
        page = users[offset:] if limit <= 0 else users[offset : offset + limit]
        end = offset + len(page)
        include_locale = _truthy(args.get("include_locale"))
        return {
            "members": [self._user_json(u, include_locale=include_locale) for u in page],
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": _encode_cursor("user", end) if end < len(users) else ""},
        }

    # ---- conversations -------------------------------------------------------------------------------

    def _api_conversations_info(self, args: JSONDict) -> JSONDict:
        _require(args, "channel")
        ch = self._resolve_channel(_str_arg(args, "channel"))
        return {
            "channel": self._channel_json(
                ch,
                include_num_members=_truthy(args.get("include_num_members")),
                include_locale=_truthy(args.get("include_locale")),
            )
        }

    def _api_conversations_list(self, args: JSONDict) -> JSONDict:
        types = {t.strip() for t in (_str_arg(args, "types") or "public_channel").split(",") if t.strip()}
        limit = _int_arg(args, "limit", 100)
        offset = _decode_cursor("conv", _str_arg(args, "cursor"))

        def kind(ch: _Channel) -> str:
            if ch.is_im:
                return "im"
            if ch.is_mpim:
                return "mpim"
            return "private_channel" if ch.is_private else "public_channel"

        with self._lock:
            chans = [c for c in self._channels.values() if kind(c) in types]
        page = chans[offset : offset + limit] if limit > 0 else chans[offset:]
        end = offset + len(page)
        return {
            "channels": [self._channel_json(c) for c in page],
            "response_metadata": {"next_cursor": _encode_cursor("conv", end) if end < len(chans) else ""},
        }

    def _api_conversations_members(self, args: JSONDict) -> JSONDict:
        _require(args, "channel")
        ch = self._resolve_channel(_str_arg(args, "channel"))
        limit = _int_arg(args, "limit", 100)
        offset = _decode_cursor("member", _str_arg(args, "cursor"))
        members = self._channel_members(ch)
        page = members[offset : offset + limit] if limit > 0 else members[offset:]
        end = offset + len(page)
        return {
            "members": page,
            "response_metadata": {"next_cursor": _encode_cursor("member", end) if end < len(members) else ""},
        }

    def _api_conversations_open(self, args: JSONDict) -> JSONDict:
        return_im = _truthy(args.get("return_im"))
        if args.get("channel"):
            ch = self._resolve_channel(_str_arg(args, "channel"))
            return {"channel": self._channel_json(ch) if return_im else {"id": ch.id}}
        users_arg = args.get("users")
        if not users_arg:
            raise SlackError("users_list_not_supplied")
        users = [
            u.strip()
            for u in (users_arg if isinstance(users_arg, list) else str(users_arg).split(","))
            if u.strip()
        ]
        for u in users:
            self._user(u)
        if len(users) == 1:
            with self._lock:
                existed = users[0] in self._ims
                ch = self._channels[self.im_channel(users[0])]
            out: JSONDict = {"channel": self._channel_json(ch) if return_im else {"id": ch.id}}
            if existed:
                out.update({"no_op": True, "already_open": True})
            return out
        key = ",".join(sorted(users))
        with self._lock:
            for existing in self._channels.values():
                if existing.is_mpim and ",".join(sorted(existing.members)) == key:
                    return {
                        "channel": self._channel_json(existing) if return_im else {"id": existing.id},
                        "no_op": True,
                        "already_open": True,
                    }
            cid = self._next_id("G")
            mp = _Channel(
                id=cid,
                name="mpdm-" + "--".join(users) + "-1",
                members=users,
                is_mpim=True,
                created=int(self.clock()),
            )
            self._channels[cid] = mp
        return {"channel": self._channel_json(mp) if return_im else {"id": cid}}

    def _page_messages(
        self, args: JSONDict, msgs: list[Message], *, newest_first: bool, kind: str
    ) -> JSONDict:
        try:
            oldest = _ts_key(_str_arg(args, "oldest") or "0")
        except InvalidOperation as exc:
            raise SlackError("invalid_ts_oldest") from exc
        latest_arg = _str_arg(args, "latest")
        try:
            latest = _ts_key(latest_arg) if latest_arg else None
        except InvalidOperation as exc:
            raise SlackError("invalid_ts_latest") from exc
        inclusive = _truthy(args.get("inclusive"))

        def in_range(m: Message) -> bool:
            key = _ts_key(m.ts)
            lo = key >= oldest if inclusive else key > oldest
            hi = True if latest is None else (key <= latest if inclusive else key < latest)
            return lo and hi

        selected = [m for m in msgs if in_range(m)]
        selected.sort(key=lambda m: _ts_key(m.ts), reverse=newest_first)
        limit = _int_arg(args, "limit", 100) or 100
        offset = _decode_cursor(kind, _str_arg(args, "cursor"))
        page = selected[offset : offset + limit]
        end = offset + len(page)
        include_metadata = _truthy(args.get("include_all_metadata"))
        return {
            "messages": [self._message_json(m, include_metadata=include_metadata) for m in page],
            "has_more": end < len(selected),
            "pin_count": 0,
            "response_metadata": {"next_cursor": _encode_cursor(kind, end) if end < len(selected) else ""},
        }

    def _api_conversations_history(self, args: JSONDict) -> JSONDict:
        _require(args, "channel")
        ch = self._resolve_channel(_str_arg(args, "channel"))
        msgs = self.channel_messages(ch.id, top_level=True)
        out = self._page_messages(args, msgs, newest_first=True, kind="history")
        out["channel_actions_ts"] = None
        out["channel_actions_count"] = 0
        return out

    def _api_conversations_replies(self, args: JSONDict) -> JSONDict:
        _require(args, "channel", "ts")
        ch = self._resolve_channel(_str_arg(args, "channel"))
        ts = str(args["ts"])
        target = self.get_message(ch.id, ts)
        if target is None or target.deleted or target.is_ephemeral:
            raise SlackError("thread_not_found")
        root = target.thread_ts or target.ts
        msgs = self.channel_messages(ch.id, thread_ts=root)
        return self._page_messages(args, msgs, newest_first=False, kind="replies")

    # ---- reactions -----------------------------------------------------------------------------------

    def _reaction_target(self, args: JSONDict) -> Message:
        _require(args, "channel", "name", "timestamp")
        ch = self._resolve_channel(_str_arg(args, "channel"))
        m = self.get_message(ch.id, str(args["timestamp"]))
        if m is None or m.deleted or m.is_ephemeral:
            raise SlackError("message_not_found")
        return m

    def _api_reactions_add(self, args: JSONDict) -> JSONDict:
        m = self._reaction_target(args)
        name = str(args["name"]).strip(":")
        users = m.reactions.setdefault(name, [])
        if self.bot_user_id in users:
            raise SlackError("already_reacted")
        users.append(self.bot_user_id)
        self._notify()
        return {}

    def _api_reactions_remove(self, args: JSONDict) -> JSONDict:
        m = self._reaction_target(args)
        name = str(args["name"]).strip(":")
        users = m.reactions.get(name, [])
        if self.bot_user_id not in users:
            raise SlackError("no_reaction")
        users.remove(self.bot_user_id)
        self._notify()
        return {}

    # ---- views ---------------------------------------------------------------------------------------

    def issue_trigger_id(self, user_id: str) -> str:
        """A fresh trigger_id for `user_id`, as Slack puts in commands and interactions (valid 3 s, once)."""
        with self._lock:
            self._counter += 1
            tid = f"{self._counter}.{int(self.clock())}.{uuid.uuid4().hex}"
            self._triggers[tid] = _Trigger(id=tid, user_id=user_id, issued=time.monotonic())
            return tid

    def _use_trigger(self, args: JSONDict) -> _Trigger:
        _require(args, "trigger_id")
        trigger = self._triggers.get(str(args["trigger_id"]))
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() - trigger.issued > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger

    def _view_arg(self, args: JSONDict) -> JSONDict:
        _require(args, "view")
        view = _json_arg(args, "view")
        errors = view_errors(view)
        if errors:
            raise SlackError("invalid_arguments", messages=errors)
        return cast(JSONDict, view)

    def _new_hash(self) -> str:
        return f"{int(self.clock())}.{uuid.uuid4().hex[:8]}"

    def _build_view(
        self,
        view: JSONDict,
        *,
        view_id: str,
        root_view_id: str | None = None,
        previous_view_id: str | None = None,
    ) -> JSONDict:
        return {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type", "modal"),
            "blocks": _ensure_block_ids(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self._new_hash(),
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id or view_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }

    def _record_view(
        self,
        method: str,
        obj: JSONDict,
        view: JSONDict,
        *,
        user_id: str | None,
        trigger_id: str | None = None,
    ) -> None:
        self._view_objects[obj["id"]] = obj
        self.views.append(
            {
                "method": method,
                "id": obj["id"],
                "view_id": obj["id"],
                "view": view,
                "user_id": user_id,
                "hash": obj["hash"],
                "trigger_id": trigger_id,
                "at": time.time(),
            }
        )
        self._changed.notify_all()

    def _check_external_id(self, view: JSONDict) -> None:
        ext = view.get("external_id")
        if ext and any(v.get("external_id") == ext for v in self._view_objects.values()):
            raise SlackError("duplicate_external_id")

    def _api_views_open(self, args: JSONDict) -> JSONDict:
        view = self._view_arg(args)
        trigger = self._use_trigger(args)
        if view.get("type") != "modal":
            raise SlackError(
                "invalid_arguments", messages=["[ERROR] views.open needs a modal [json-pointer:/view/type]"]
            )
        self._check_external_id(view)
        obj = self._build_view(view, view_id=self._next_id("V"))
        self._modal_stacks[trigger.user_id] = [obj["id"]]
        self._record_view("views.open", obj, view, user_id=trigger.user_id, trigger_id=trigger.id)
        return {"view": obj}

    def _api_views_push(self, args: JSONDict) -> JSONDict:
        view = self._view_arg(args)
        trigger = self._use_trigger(args)
        stack = self._modal_stacks.get(trigger.user_id) or []
        if not stack:
            raise SlackError("not_found", messages=["[ERROR] no modal is open to push onto"])
        if len(stack) >= MODAL_STACK_LIMIT:
            raise SlackError("push_limit_reached")
        self._check_external_id(view)
        obj = self._build_view(
            view, view_id=self._next_id("V"), root_view_id=stack[0], previous_view_id=stack[-1]
        )
        stack.append(obj["id"])
        self._record_view("views.push", obj, view, user_id=trigger.user_id, trigger_id=trigger.id)
        return {"view": obj}

    def _api_views_update(self, args: JSONDict) -> JSONDict:
        view = self._view_arg(args)
        view_id = _str_arg(args, "view_id")
        external_id = _str_arg(args, "external_id")
        if not view_id and not external_id:
            raise SlackError("invalid_arguments", messages=["[ERROR] view_id or external_id is required"])
        current = (
            self._view_objects.get(view_id)
            if view_id
            else next((v for v in self._view_objects.values() if v.get("external_id") == external_id), None)
        )
        if current is None:
            raise SlackError("not_found")
        expected = _str_arg(args, "hash")
        if expected and expected != current["hash"]:
            raise SlackError("hash_conflict")
        obj = self._build_view(
            view,
            view_id=current["id"],
            root_view_id=current["root_view_id"],
            previous_view_id=current["previous_view_id"],
        )
        user_id = next((u for u, s in self._modal_stacks.items() if current["id"] in s), None)
        if user_id is None:
            user_id = next((u for u, v in self._home_views.items() if v == current["id"]), None)
        self._record_view("views.update", obj, view, user_id=user_id)
        return {"view": obj}

    def _api_views_publish(self, args: JSONDict) -> JSONDict:
        _require(args, "user_id", "view")
        user = self._user(_str_arg(args, "user_id"))
        view = self._view_arg(args)
        if view.get("type") != "home":
            raise SlackError(
                "invalid_arguments",
                messages=["[ERROR] views.publish needs a home view [json-pointer:/view/type]"],
            )
        existing_id = self._home_views.get(user.id)
        expected = _str_arg(args, "hash")
        if existing_id and expected and expected != self._view_objects[existing_id]["hash"]:
            raise SlackError("hash_conflict")
        view_id = existing_id or self._next_id("V")
        obj = self._build_view(view, view_id=view_id)
        self._home_views[user.id] = view_id
        self._record_view("views.publish", obj, view, user_id=user.id)
        return {"view": obj}

    # ---- files ---------------------------------------------------------------------------------------

    def _api_files_getUploadURLExternal(self, args: JSONDict) -> JSONDict:
        _require(args, "filename", "length")
        length = _int_arg(args, "length", 0)
        if length < 0:
            raise SlackError("invalid_arguments", messages=["[ERROR] length must be positive"])
        fid = self._next_id("F")
        self.files[fid] = File(
            id=fid,
            filename=str(args["filename"]),
            length=length,
            alt_txt=_str_arg(args, "alt_txt"),
            snippet_type=_str_arg(args, "snippet_type"),
            user=self.bot_user_id,
            created=int(self.clock()),
        )
        return {"upload_url": f"{self.base_url}/upload/{fid}", "file_id": fid}

    def handle_upload(self, file_id: str, raw: bytes, content_type: str) -> tuple[int, str]:
        """The upload URL: raw bytes or a multipart form with one file part. No auth header needed."""
        with self._lock:
            f = self.files.get(file_id)
            if f is None:
                return 404, "file_not_found"
            data = raw
            if content_type.split(";")[0].strip().lower() == "multipart/form-data":
                _fields, parts = _decode_multipart(raw, content_type)
                if parts:
                    data = next(iter(parts.values()))[1]
            f.content = data
            self._changed.notify_all()
            return 200, f"OK - {len(data)}"

    def _api_files_completeUploadExternal(self, args: JSONDict) -> JSONDict:
        _require(args, "files")
        entries = _json_arg(args, "files")
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments", messages=["[ERROR] files must be a non-empty JSON array"])
        targets: list[str] = []
        if args.get("channel_id"):
            targets.append(str(args["channel_id"]))
        chans_arg = args.get("channels")
        if chans_arg:
            names = chans_arg if isinstance(chans_arg, list) else str(chans_arg).split(",")
            targets.extend(str(c).strip() for c in names if str(c).strip())
        channels = [self._resolve_channel(c) for c in dict.fromkeys(targets)]
        thread_ts = _str_arg(args, "thread_ts") or None
        initial_comment = _str_arg(args, "initial_comment")
        files: list[File] = []
        for entry in entries:
            if not isinstance(entry, dict) or not entry.get("id"):
                raise SlackError("invalid_arguments", messages=["[ERROR] each file needs an id"])
            f = self.files.get(str(entry["id"]))
            if f is None or f.content is None:
                raise SlackError("file_not_found", messages=[f"[ERROR] {entry['id']} was never uploaded"])
            if entry.get("title"):
                f.title = str(entry["title"])
            f.completed = True
            f.thread_ts = thread_ts
            f.initial_comment = initial_comment
            files.append(f)
        for ch in channels:
            ts = self._next_ts()
            for f in files:
                f.channel = f.channel or ch.id
                f.shares.append((ch.id, ts))
            self._store(
                Message(
                    channel=ch.id,
                    ts=ts,
                    text=initial_comment or "",
                    user=self.bot_user_id,
                    thread_ts=thread_ts,
                    files=[self._file_json(f) for f in files],
                    bot_id=self.bot_id,
                    app_id=self.app_id,
                    source="files.completeUploadExternal",
                )
            )
        return {"files": [self._file_json(f) for f in files]}

    def _api_files_info(self, args: JSONDict) -> JSONDict:
        _require(args, "file")
        f = self.files.get(str(args["file"]))
        if f is None or not f.completed:
            raise SlackError("file_not_found")
        return {"file": self._file_json(f), "comments": [], "response_metadata": {"next_cursor": ""}}

    def file_bytes(self, file_id: str) -> bytes | None:
        with self._lock:
            f = self.files.get(file_id)
            return f.content if f is not None else None

    # ---- response_url --------------------------------------------------------------------------------

    def _new_response_url(self, **kwargs: Any) -> _ResponseURL:
        with self._lock:
            rid = uuid.uuid4().hex
            ctx = _ResponseURL(id=rid, created=time.monotonic(), **kwargs)
            self._response_urls[rid] = ctx
            return ctx

    def response_url_for(self, rid: str) -> str:
        return f"{self.base_url}/response/{rid}"

    def handle_response_url(self, rid: str, raw: bytes, content_type: str) -> tuple[int, str]:
        """POST /response/<id>: record, then apply like Slack. Up to 5 posts within 30 minutes."""
        with self._lock:
            ctx = self._response_urls.get(rid)
            try:
                payload: Any = json.loads(raw.decode("utf-8")) if raw else {}
            except (UnicodeDecodeError, json.JSONDecodeError):
                try:
                    form = _decode_form(raw)
                    payload = json.loads(form["payload"]) if "payload" in form else form
                except (UnicodeDecodeError, json.JSONDecodeError):
                    payload = None
            record: JSONDict = {"url_id": rid, "body": payload, "at": time.time()}
            self.responses.append(record)
            try:
                if ctx is None:
                    status, answer = 404, "no_service"
                elif time.monotonic() - ctx.created > RESPONSE_URL_TTL:
                    status, answer = 404, "expired_url"
                elif ctx.posts >= RESPONSE_URL_MAX_POSTS:
                    status, answer = 404, "used_url"
                elif not isinstance(payload, dict):
                    status, answer = 400, "invalid_payload"
                else:
                    ctx.posts += 1
                    try:
                        self._apply_response(ctx, payload, source="response_url")
                        status, answer = 200, "ok"
                    except SlackError as err:
                        status, answer = 400, err.error
                record["status"] = status
                record["answer"] = answer
                return status, answer
            finally:
                self._changed.notify_all()

    def _apply_response(self, ctx: _ResponseURL, body: JSONDict, *, source: str) -> Message | None:
        """What Slack does with an ack body or a response_url post."""
        with self._lock:
            original_ts = ctx.original_ts or ctx.last_ts
            if _truthy(body.get("delete_original")):
                target = self.get_message(ctx.channel, original_ts) if original_ts else None
                if target is not None:
                    target.deleted = True
                return None
            text, blocks, attachments = self._message_content(body)
            if _truthy(body.get("replace_original")) and original_ts:
                target = self.get_message(ctx.channel, original_ts)
                if target is not None and not target.deleted:
                    self._edit(
                        target, text=text, blocks=blocks, metadata=None, attachments=attachments, via=source
                    )
                    return target
            in_channel = body.get("response_type") == "in_channel"
            thread_ts = _str_arg(body, "thread_ts") or ctx.thread_ts
            if in_channel and ctx.kind == "command" and not ctx.echoed:
                ctx.echoed = True
                self._store(
                    Message(
                        channel=ctx.channel,
                        ts=self._next_ts(),
                        text=f"{ctx.command} {ctx.text or ''}".strip(),
                        user=ctx.user,
                        source="command_echo",
                    )
                )
            m = self._store(
                Message(
                    channel=ctx.channel,
                    ts=self._next_ts(),
                    text=text,
                    user=self.bot_user_id,
                    blocks=blocks,
                    attachments=attachments,
                    thread_ts=thread_ts,
                    ephemeral_user=None if in_channel else ctx.user,
                    bot_id=self.bot_id,
                    app_id=self.app_id,
                    source=source,
                )
            )
            ctx.last_ts = m.ts
            return m

    # ---- towards the bot -----------------------------------------------------------------------------

    def _deliver(
        self, kind: str, body: bytes, content_type: str, extra_headers: dict[str, str] | None = None
    ) -> HTTPResult:
        if not self.bot_url:
            raise RuntimeError("LocalSlack.bot_url is not set: nowhere to deliver to")
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "Accept": "application/json,*/*",
            **signed_headers(self.signing_secret, body),
            **(extra_headers or {}),
        }
        request = urllib.request.Request(self.bot_url, data=body, headers=headers, method="POST")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        started = time.monotonic()
        status: int
        resp_headers: dict[str, str]
        raw: bytes
        try:
            with opener.open(request, timeout=self.delivery_timeout) as resp:
                status, resp_headers, raw = resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as err:
            status, resp_headers, raw = err.code, dict(err.headers.items()), err.read()
        except (urllib.error.URLError, OSError) as err:
            status, resp_headers, raw = (
                0,
                {},
                json.dumps({"error": "dispatch_failed", "detail": str(err)}).encode(),
            )
        elapsed = time.monotonic() - started
        text = raw.decode("utf-8", errors="replace")
        parsed: Any = text
        ctype = next((v for k, v in resp_headers.items() if k.lower() == "content-type"), "")
        if "json" in ctype or text.lstrip().startswith(("{", "[")) or status == 0:
            try:
                parsed = json.loads(text) if text.strip() else ""
            except json.JSONDecodeError:
                parsed = text
        result = HTTPResult(
            status=status, body=parsed, headers=resp_headers, elapsed=elapsed, late=elapsed > self.ack_timeout
        )
        with self._lock:
            self.deliveries.append(
                Delivery(kind=kind, body=body, headers=headers, result=result, at=time.time())
            )
            self._changed.notify_all()
        return result

    def _channel_name_for_payload(self, ch: _Channel) -> str:
        if ch.is_im:
            return "directmessage"
        if ch.is_mpim or ch.is_private:
            return "privategroup" if ch.is_mpim else ch.name
        return ch.name

    def send_command(
        self, command: str, text: str, *, user_id: str, channel_id: str, team_id: str | None = None
    ) -> CommandResult:
        """A user types `/command text` in `channel_id`. Exactly Slack's form fields, signed."""
        if not command.startswith("/"):
            raise ValueError("a slash command starts with '/'")
        user = self._known_user(user_id)
        ch = self._known_channel(channel_id)
        trigger_id = self.issue_trigger_id(user.id)
        ctx = self._new_response_url(kind="command", channel=ch.id, user=user.id, command=command, text=text)
        fields = {
            "token": self.verification_token,
            "team_id": team_id or self.team_id,
            "team_domain": self.team_domain,
            "channel_id": ch.id,
            "channel_name": self._channel_name_for_payload(ch),
            "user_id": user.id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": self.response_url_for(ctx.id),
            "trigger_id": trigger_id,
        }
        body = urllib.parse.urlencode(fields).encode()
        result = self._deliver("command", body, "application/x-www-form-urlencoded")
        if result.status == 200 and not result.late:
            ack = result.body
            if isinstance(ack, dict) and (ack.get("text") or ack.get("blocks") or ack.get("attachments")):
                try:
                    self._apply_response(ctx, ack, source="command_ack")
                except SlackError as err:
                    log.warning("Slack would reject the command ack body: %s", err.error)
            elif isinstance(ack, str) and ack.strip():
                self._apply_response(ctx, {"text": ack}, source="command_ack")
        return CommandResult(
            status=result.status,
            body=result.body,
            headers=result.headers,
            elapsed=result.elapsed,
            late=result.late,
            response_url_id=ctx.id,
            response_url=self.response_url_for(ctx.id),
            trigger_id=trigger_id,
        )

    def event_envelope(
        self, event: JSONDict, *, team_id: str | None = None, event_id: str | None = None
    ) -> JSONDict:
        """The event_callback envelope Slack wraps every Events API event in."""
        team = team_id or self.team_id
        event = dict(event)
        event.setdefault("event_ts", self._next_ts())
        channel = event.get("channel") if isinstance(event.get("channel"), str) else None
        return {
            "token": self.verification_token,
            "team_id": team,
            "context_team_id": team,
            "context_enterprise_id": None,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"1-{event.get('type', 'event')}-{team}-{channel or ''}",
        }

    def send_event(
        self,
        event: JSONDict,
        *,
        team_id: str | None = None,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> HTTPResult:
        envelope = self.event_envelope(event, team_id=team_id, event_id=event_id)
        extra = (
            {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason} if retry_num else None
        )
        return self._deliver("event", json.dumps(envelope).encode(), "application/json", extra)

    def send_url_verification(self, challenge: str | None = None) -> HTTPResult:
        body = {
            "token": self.verification_token,
            "challenge": challenge or uuid.uuid4().hex,
            "type": "url_verification",
        }
        return self._deliver("event", json.dumps(body).encode(), "application/json")

    def _channel_type(self, ch: _Channel) -> str:
        if ch.is_im:
            return "im"
        if ch.is_mpim:
            return "mpim"
        return "group" if ch.is_private else "channel"

    def post_user_message(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        thread_ts: str | None = None,
        deliver: bool = True,
        escaped: bool = False,
    ) -> Message:
        """A person writes in a channel (or thread): store it and send the `message` event to the bot.

        `text` is what they typed, Slack markup their client made included (`<@U123>`, `<#C123|x>`,
        `<!here>`, `<https://…|label>`); like Slack, the message's `text` (stored and in the event) has
        every other `&`, `<`, `>` escaped: `R&D <again>` arrives as `R&amp;D &lt;again&gt;`.
        `escaped=True`: `text` already is Slack's escaped form and is sent as is.
        """
        u = self._known_user(user)
        ch = self._known_channel(channel)
        text = text if escaped else slack_escape(text)
        blocks = [
            {
                "type": "rich_text",
                "block_id": uuid.uuid4().hex[:3],
                "elements": [{"type": "rich_text_section", "elements": rich_text_elements(text)}],
            }
        ]
        m = self._store(
            Message(
                channel=ch.id,
                ts=self._next_ts(),
                text=text,
                user=u.id,
                blocks=blocks,
                thread_ts=thread_ts,
                client_msg_id=str(uuid.uuid4()),
                source="user",
            )
        )
        if deliver and self.bot_url:
            event: JSONDict = {
                "client_msg_id": m.client_msg_id,
                "type": "message",
                "text": text,
                "user": u.id,
                "ts": m.ts,
                "team": self.team_id,
                "blocks": blocks,
            }
            if thread_ts:
                parent = self.get_message(ch.id, thread_ts)
                event["thread_ts"] = thread_ts
                event["parent_user_id"] = parent.user if parent is not None else u.id
            event.update({"channel": ch.id, "event_ts": m.ts, "channel_type": self._channel_type(ch)})
            self.send_event(event)
        return m

    def open_app_home(self, user_id: str, *, tab: str = "home") -> HTTPResult:
        """The user opens the app's Home (or Messages) tab: an app_home_opened event."""
        self._known_user(user_id)
        event: JSONDict = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self.im_channel(user_id),
            "tab": tab,
            "event_ts": self._next_ts(),
        }
        view = self.home_view(user_id)
        if tab == "home" and view is not None:
            event["view"] = view
        return self.send_event(event)

    def _user_ref(self, user_id: str) -> JSONDict:
        u = self._known_user(user_id)
        return {"id": u.id, "username": u.name, "name": u.name, "team_id": self.team_id}

    def send_interaction(self, payload: JSONDict) -> HTTPResult:
        """POST form `payload=<json>`, signed. Fills what Slack always sends (team, user names, token,
        api_app_id, a fresh trigger_id, a response_url on this server for message actions) when missing;
        for view_submission, applies the ack's response_action to the modal stack."""
        payload = dict(payload)
        if "type" not in payload:
            raise ValueError("an interaction payload needs a type")
        user = payload.get("user")
        user_id = user if isinstance(user, str) else (user or {}).get("id")
        if not isinstance(user_id, str):
            raise ValueError("an interaction payload needs user.id")
        ref = self._user_ref(user_id)
        payload["user"] = {**ref, **user} if isinstance(user, dict) else ref
        payload.setdefault("api_app_id", self.app_id)
        payload.setdefault("token", self.verification_token)
        payload.setdefault("team", {"id": self.team_id, "domain": self.team_domain})
        payload.setdefault("enterprise", None)
        payload.setdefault("is_enterprise_install", False)
        payload.setdefault("trigger_id", self.issue_trigger_id(user_id))
        container = payload.get("container") if isinstance(payload.get("container"), dict) else None
        if (
            payload["type"] in ("block_actions", "message_action")
            and "response_url" not in payload
            and container
        ):
            channel_id = container.get("channel_id")
            if isinstance(channel_id, str):
                original = container.get("message_ts")
                msg = self.get_message(channel_id, original) if isinstance(original, str) else None
                ctx = self._new_response_url(
                    kind="interaction",
                    channel=channel_id,
                    user=user_id,
                    original_ts=original if isinstance(original, str) else None,
                    thread_ts=msg.thread_ts if msg is not None else None,
                )
                payload["response_url"] = self.response_url_for(ctx.id)
        if payload["type"] == "view_submission":
            payload.setdefault("response_urls", [])
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        result = self._deliver("interaction", body, "application/x-www-form-urlencoded")
        if payload["type"] == "view_submission" and isinstance(payload.get("view"), dict):
            self._after_view_submission(user_id, payload["view"], result)
        return result

    def _after_view_submission(self, user_id: str, view: JSONDict, result: HTTPResult) -> None:
        if not result.ok or result.late:
            return  # Slack shows an error in the modal; it stays open
        ack = result.body if isinstance(result.body, dict) else {}
        action = ack.get("response_action")
        with self._lock:
            stack = self._modal_stacks.setdefault(user_id, [])
            vid = view.get("id")
            if action == "errors":
                return
            if action == "clear":
                stack.clear()
            elif (
                action == "update"
                and isinstance(ack.get("view"), dict)
                and isinstance(vid, str)
                and vid in self._view_objects
            ):
                cur = self._view_objects[vid]
                obj = self._build_view(
                    ack["view"],
                    view_id=vid,
                    root_view_id=cur["root_view_id"],
                    previous_view_id=cur["previous_view_id"],
                )
                self._record_view("response_action:update", obj, ack["view"], user_id=user_id)
            elif action == "push" and isinstance(ack.get("view"), dict):
                root = stack[0] if stack else None
                obj = self._build_view(
                    ack["view"],
                    view_id=self._next_id("V"),
                    root_view_id=root,
                    previous_view_id=stack[-1] if stack else None,
                )
                stack.append(obj["id"])
                self._record_view("response_action:push", obj, ack["view"], user_id=user_id)
            elif isinstance(vid, str) and vid in stack:
                del stack[stack.index(vid) :]
            self._changed.notify_all()

    def click_button(
        self,
        target: Message | str,
        action_id: str,
        *,
        user_id: str,
        value: Any = None,
        block_id: str | None = None,
    ) -> HTTPResult:
        """Click (or pick a value in) the element `action_id` of a stored message or of a view (by id),
        sending the block_actions payload Slack would. `block_id` picks one of several elements that
        share an action_id (one "Done" button per task, say)."""
        with self._lock:
            if isinstance(target, Message):
                blocks = target.blocks
                view = None
            else:
                view = self._view_objects.get(target)
                if view is None:
                    raise ValueError(f"no view {target}")
                blocks = view.get("blocks")
            found = _find_action(blocks, action_id, block_id)
        if found is None:
            raise ValueError(f"no element with action_id {action_id!r}" + (f" in block {block_id!r}" if block_id else ""))
        block_id, element = found
        action: JSONDict = {"action_id": action_id, "block_id": block_id, "type": element.get("type")}
        if element.get("type") == "button":
            action["text"] = element.get("text")
            if "value" in element:
                action["value"] = element["value"]
            if element.get("style"):
                action["style"] = element["style"]
        else:
            action.update({k: v for k, v in _state_value(element, value).items() if k != "type"})
        action["action_ts"] = self._next_ts()
        payload: JSONDict = {"type": "block_actions", "user": {"id": user_id}, "actions": [action]}
        if isinstance(target, Message):
            ch = self._channels.get(target.channel)
            payload["container"] = {
                "type": "message",
                "message_ts": target.ts,
                "channel_id": target.channel,
                "is_ephemeral": target.is_ephemeral,
            }
            if target.thread_ts:
                payload["container"]["thread_ts"] = target.thread_ts
            payload["channel"] = {
                "id": target.channel,
                "name": self._channel_name_for_payload(ch) if ch else target.channel,
            }
            if not target.is_ephemeral:
                payload["message"] = self._message_json(target)
            payload["state"] = {"values": {}}
        else:
            assert view is not None
            payload["container"] = {"type": "view", "view_id": view["id"]}
            payload["view"] = view
        return self.send_interaction(payload)

    def submit_view(
        self, view_id: str, *, user_id: str, values: dict[str, dict[str, Any]] | None = None
    ) -> HTTPResult:
        """Press Submit on a modal. `values` is {block_id: {action_id: value}}: a plain value is turned
        into the right state entry for the element type (e.g. "x" → {"type": "plain_text_input",
        "value": "x"}, an option value → selected_option); a dict is used as given."""
        with self._lock:
            current = self._view_objects.get(view_id)
            if current is None:
                raise ValueError(f"no view {view_id}")
            view = json.loads(json.dumps(current))
        given = values or {}
        state: dict[str, dict[str, Any]] = {}
        for block_id, action_id, element in _input_elements(view.get("blocks")):
            supplied = given.get(block_id, {})
            state.setdefault(block_id, {})[action_id] = _state_value(element, supplied.get(action_id))
        for block_id, actions in given.items():
            for action_id, val in actions.items():
                if action_id not in state.get(block_id, {}):
                    state.setdefault(block_id, {})[action_id] = (
                        val if isinstance(val, dict) else {"type": "plain_text_input", "value": val}
                    )
        view["state"] = {"values": state}
        return self.send_interaction({"type": "view_submission", "user": {"id": user_id}, "view": view})


# --------------------------------------------------------------------------------------------------
# 4. HTTP routing
# --------------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    slack: LocalSlack


class _Handler(BaseHTTPRequestHandler):
    server_version = "LocalSlack/1.0"
    protocol_version = "HTTP/1.1"

    @property
    def slack(self) -> LocalSlack:
        return cast(_Server, self.server).slack

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - " + format, self.address_string(), *args)

    # ---- plumbing --------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: int, payload: JSONDict, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8", headers)

    def _send_text(self, status: int, text: str) -> None:
        self._send(status, text.encode(), "text/plain; charset=utf-8")

    # ---- routes ----------------------------------------------------------------------------------

    def do_POST(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        raw = self._read_body()
        if path.startswith("/playground/") and self.slack.playground is not None:
            self._playground(path, raw)
        elif path.startswith("/api/"):
            self._api(path[len("/api/") :], raw)
        elif path.startswith("/upload/"):
            status, text = self.slack.handle_upload(
                path[len("/upload/") :], raw, self.headers.get("Content-Type", "")
            )
            self._send_text(status, text)
        elif path.startswith("/response/"):
            status, text = self.slack.handle_response_url(
                path[len("/response/") :], raw, self.headers.get("Content-Type", "")
            )
            self._send_text(status, text)
        else:
            self._send_text(404, "not_found")

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/playground/") and self.slack.playground is not None:
            self._playground(path, b"")
        elif path.startswith("/api/"):
            self._api(path[len("/api/") :], b"")
        elif path.startswith("/files/"):
            self._file(path[len("/files/") :])
        else:
            self.serve_static(path)

    do_HEAD = do_GET

    def _api(self, method: str, raw: bytes) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query, keep_blank_values=True))
        headers = dict(self.headers.items())
        decode_error: SlackError | None = None
        try:
            body = _decode_body(raw, self.headers.get("Content-Type", ""))
        except SlackError as err:
            body, decode_error = {}, err
        args: JSONDict = {**query, **body}
        status, payload, extra, delay = self.slack.handle_api(
            method, args, headers, decode_error=decode_error
        )
        if status == 0:
            self.close_connection = True
            return  # the call was done; its answer is lost
        if delay > 0 and self.slack.stopping.wait(delay):
            self.close_connection = True
            return  # the server is stopping: drop the connection without an answer
        self._send_json(status, payload, extra)

    def _playground(self, path: str, raw: bytes) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query, keep_blank_values=True))
        status, body, content_type, headers = self.slack.playground.handle(
            self.command, path, query, raw, self.headers.get("Content-Type", "")
        )
        self._send(status, body, content_type, headers)

    def _file(self, rest: str) -> None:
        file_id = rest.split("/", 1)[0]
        data = self.slack.file_bytes(file_id)
        if data is None:
            self._send_text(404, "file_not_found")
            return
        f = self.slack.files[file_id]
        self._send(200, data, f.mimetype)

    def serve_static(self, path: str) -> None:
        """Everything else under `/`: the playground's page and assets, from `static_dir`."""
        root = self.slack.static_dir
        if root is None:
            if path == "/":
                self._send_text(
                    200, f"LocalSlack for {self.slack.team_name}: Web API at {self.slack.api_url}"
                )
            else:
                self._send_text(404, "not_found")
            return
        relative = urllib.parse.unquote(path).lstrip("/") or "index.html"
        target = (root / relative).resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            self._send_text(404, "not_found")
            return
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype.endswith(("javascript", "json")):
            ctype += "; charset=utf-8"
        self._send(200, target.read_bytes(), ctype, {"Cache-Control": "no-cache"})
