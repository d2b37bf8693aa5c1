"""The workspace's state: its directory (users, channels, IMs), the recorded Web API traffic and what Slack
holds (messages, views, files, response URLs), with the queries and waits tests use on them.

`Workspace` is the base every Web API family (`chat`, `conversations`, ...) builds on; `LocalSlack`
(bot.localslack.slack) puts them together. All state is guarded by one re-entrant lock.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.localslack.records import (
    Call,
    Canned,
    Channel,
    Delivery,
    File,
    JSONDict,
    Message,
    ResponseURL,
    SlackError,
    Trigger,
    User,
)

if TYPE_CHECKING:
    from bot.localslack.httpd import Server
    from bot.localslack.socket_mode import SocketConnection


class _Changes(threading.Condition):
    """The workspace's condition: every `notify_all` (each change announces itself so) also calls the
    workspace's `on_change` hook, which a store (bot.localslack.store) uses to know there is something to save."""

    def __init__(self, lock: threading.RLock, owner: Workspace) -> None:
        super().__init__(lock)
        self._owner = owner

    def notify_all(self) -> None:
        super().notify_all()
        hook = self._owner.on_change
        if hook is not None:
            hook()


def ts_order(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds or 0), int(micros or 0)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "workspace"


class Workspace:
    """A Slack workspace's state on localhost; the Web API and the HTTP server are added by LocalSlack."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        team_id: str = "T0001",
        team_name: str = "Acme Marketing",
        bot_token: str = "xoxb-local-token",
        signing_secret: str = "local-signing-secret",
        app_token: str = "xapp-1-A0LOCALAPP-1-local-app-token",
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
        #: the workspace's language as team.info reports it (None: left out, as Slack does when unset)
        self.team_locale: str | None = None
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        #: the app-level token: only apps.connections.open takes it (bot.localslack.socket_mode)
        self.app_token = app_token
        #: drivers send requests over a connected Socket Mode client instead of HTTP
        self.socket_mode = False
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

        #: called after every change (messages, files, reactions, DMs): bot.localslack.store saves then
        self.on_change: Callable[[], None] | None = None
        self._lock = threading.RLock()
        self._changed = _Changes(self._lock, self)
        self._stopping = threading.Event()
        self._httpd: Server | None = None
        self._thread: threading.Thread | None = None

        # directory
        self._users: dict[str, User] = {}
        self._channels: dict[str, Channel] = {}
        self._ims: dict[str, str] = {}  # user id -> D… id
        self._counter = 0

        # recorded traffic and Slack's state
        self.calls: list[Call] = []
        self.messages: list[Message] = []
        self.views: list[JSONDict] = []
        self.files: dict[str, File] = {}
        self.responses: list[JSONDict] = []
        self.deliveries: list[Delivery] = []
        self._canned: dict[str, deque[Canned]] = {}
        self._drops: dict[str, int] = {}  # method -> answers still to drop after doing the call
        self._response_url_failures = 0  # response_url posts still to refuse with a 500
        self._last_ts_micros = 0
        self._triggers: dict[str, Trigger] = {}
        self._response_urls: dict[str, ResponseURL] = {}
        self._view_objects: dict[str, JSONDict] = {}
        self._modal_stacks: dict[str, list[str]] = {}
        self._home_views: dict[str, str] = {}  # user id -> view id
        self._socket_tickets: set[str] = set()  # apps.connections.open tickets not yet used
        self._sockets: list[SocketConnection] = []
        self._socket_acks: dict[str, JSONDict] = {}  # envelope id -> the app's ack

        self._add_user_record(
            User(
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

    # ---- addresses -----------------------------------------------------------------------------------

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

    @contextlib.contextmanager
    def backdated(self, at: float) -> Iterator[None]:
        """Everything stored inside happens at `at` (seconds since the epoch), as time runs on from there: history
        seeded as if it had been posted then. Messages stay in ts order; ts go on increasing after it."""
        started = time.monotonic()
        with self._lock:
            saved_clock, saved_last = self.clock, self._last_ts_micros
            self.clock = lambda: at + (time.monotonic() - started)
            self._last_ts_micros = 0
        try:
            yield
        finally:
            with self._lock:
                self.clock = saved_clock
                self._last_ts_micros = saved_last

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # ---- directory -----------------------------------------------------------------------------------

    def _add_user_record(self, user: User) -> None:
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
        is_admin: bool = False,
        is_owner: bool = False,
    ) -> None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{tz!r} is not an IANA time zone") from exc
        self._add_user_record(
            User(
                id=user_id,
                name=name,
                real_name=real_name if real_name is not None else name,
                display_name=display_name if display_name is not None else name,
                tz=tz,
                locale=locale,
                is_bot=is_bot,
                email=email,
                bot_id=f"B{user_id[1:]}" if is_bot else None,
                is_admin=is_admin,
                is_owner=is_owner,
            )
        )

    def set_role(self, user_id: str, *, admin: bool = False, owner: bool = False) -> None:
        """Make a person a workspace admin or owner (users.info's `is_admin`, `is_owner`), or neither."""
        with self._lock:
            user = self._known_user(user_id)
            user.is_admin, user.is_owner = admin, owner

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
            self._channels[channel_id] = Channel(
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
                self._channels[cid] = Channel(
                    id=cid,
                    name=user_id,
                    members=[user_id],
                    is_im=True,
                    im_user=user_id,
                    created=int(self.clock()),
                )
            return self._ims[user_id]

    def _resolve_channel(self, ref: str | None) -> Channel:
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

    def _known_user(self, user_id: str) -> User:
        """For the drivers: a clear error when a test forgot add_user."""
        with self._lock:
            if user_id not in self._users:
                raise ValueError(f"unknown user {user_id!r}: call add_user() first")
            return self._users[user_id]

    def _known_channel(self, channel: str) -> Channel:
        try:
            return self._resolve_channel(channel)
        except SlackError as exc:
            raise ValueError(f"unknown channel {channel!r}: call add_channel() first") from exc

    def _user(self, user_id: str | None) -> User:
        with self._lock:
            if user_id is None or user_id not in self._users:
                raise SlackError("user_not_found")
            return self._users[user_id]

    # ---- recording -----------------------------------------------------------------------------------

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
            self._response_url_failures = 0
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

    # ---- messages as JSON ----------------------------------------------------------------------------

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

    # ---- the message store ---------------------------------------------------------------------------

    def _store(self, message: Message) -> Message:
        """Keep the store in ts order (a backdated message goes where its ts puts it)."""
        with self._lock:
            key = ts_order(message.ts)
            if not self.messages or ts_order(self.messages[-1].ts) <= key:
                self.messages.append(message)
            else:
                at = bisect.bisect_right(self.messages, key, key=lambda m: ts_order(m.ts))
                self.messages.insert(at, message)
            self._changed.notify_all()
        return message
