"""Slack towards the bot: the test driver API that sends the bot signed slash commands, events and
interactions (button clicks, view submissions) as Slack would, and applies the bot's answers. Requests to
the bot are made without holding the lock (the bot calls back in).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

from bot.localslack.blockkit import find_action, input_elements, state_value
from bot.localslack.mrkdwn import rich_text_elements, slack_escape
from bot.localslack.records import Channel, CommandResult, Delivery, HTTPResult, JSONDict, Message, SlackError
from bot.localslack.response_url import ResponseURLs
from bot.localslack.signing import signed_headers
from bot.localslack.socket_mode import SocketModeAPI
from bot.localslack.views import ViewsAPI

log = logging.getLogger(__name__)


class Drivers(ViewsAPI, ResponseURLs, SocketModeAPI):
    """What Slack sends the bot, signed over HTTP (or, with `socket_mode`, as envelopes over the connected
    Socket Mode client): commands, events, interactions."""

    # ---- towards the bot -----------------------------------------------------------------------------

    def _deliver(
        self, kind: str, body: bytes, content_type: str, extra_headers: dict[str, str] | None = None
    ) -> HTTPResult:
        if self.socket_mode:
            result = self._deliver_over_socket(kind, body, extra_headers)
            with self._lock:
                self.deliveries.append(Delivery(kind=kind, body=body, headers={}, result=result, at=time.time()))
                self._changed.notify_all()
            return result
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

    def _channel_name_for_payload(self, ch: Channel) -> str:
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

    def _channel_type(self, ch: Channel) -> str:
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
        ts: str | None = None,
    ) -> Message:
        """A person writes in a channel (or thread): store it and send the `message` event to the bot.

        `text` is what they typed, Slack markup their client made included (`<@U123>`, `<#C123|x>`,
        `<!here>`, `<https://…|label>`); like Slack, the message's `text` (stored and in the event) has
        every other `&`, `<`, `>` escaped: `R&D <again>` arrives as `R&amp;D &lt;again&gt;`.
        `escaped=True`: `text` already is Slack's escaped form and is sent as is. `ts`: the message's own
        (seeded history whose ts the bot's records already name), else the next one.
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
                ts=ts or self._next_ts(),
                text=text,
                user=u.id,
                blocks=blocks,
                thread_ts=thread_ts,
                client_msg_id=str(uuid.uuid4()),
                source="user",
            )
        )
        if deliver and (self.bot_url or self.socket_mode):
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

    def share_file_in_dm(self, user: str, filename: str, content: bytes, *, text: str = "") -> Message:
        """A person sends a file to the bot in their DM with it: the file is uploaded and shared there, and the
        bot gets what Slack sends for that: a `message` event (subtype `file_share`, the file object in
        `files`) and a `file_shared` event."""
        u = self._known_user(user)
        dm = self.im_channel(u.id)
        f = self.upload_user_file(u.id, filename, content)  # type: ignore[attr-defined]
        with self._lock:
            ts = self._next_ts()
            f.channel = dm
            f.shares.append((dm, ts))
            file_json = self._file_json(f)  # type: ignore[attr-defined]
            m = self._store(Message(channel=dm, ts=ts, text=slack_escape(text), user=u.id, files=[file_json],
                                    client_msg_id=str(uuid.uuid4()), source="user"))
        if self.bot_url:
            self.send_event({
                "type": "message", "subtype": "file_share", "text": m.text, "files": [file_json], "upload": False,
                "user": u.id, "display_as_bot": False, "ts": ts, "client_msg_id": m.client_msg_id,
                "channel": dm, "event_ts": ts, "channel_type": "im",
            })
            self.send_event({"type": "file_shared", "channel_id": dm, "file_id": f.id, "user_id": u.id,
                             "file": {"id": f.id}, "event_ts": self._next_ts()})
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
            found = find_action(blocks, action_id, block_id)
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
            action.update({k: v for k, v in state_value(element, value).items() if k != "type"})
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

    def _file_input_state(self, element: JSONDict, value: Any) -> JSONDict:
        """A file_input's state as Slack sends it: `files`, the file objects of what the person uploaded (by
        file id: see `upload_user_file`). Slack's client only takes the element's `filetypes`, up to `max_files`."""
        if isinstance(value, dict):
            return value
        ids = [] if value is None else [value] if isinstance(value, str) else list(value)
        if len(ids) > int(element.get("max_files") or 10):
            raise ValueError(f"this file_input takes at most {element.get('max_files')} files")
        allowed = [str(t).lower() for t in element.get("filetypes") or []]
        files = []
        with self._lock:
            for file_id in ids:
                f = self.files[file_id]
                ext = f.filename.rsplit(".", 1)[-1].lower() if "." in f.filename else ""
                if allowed and ext not in allowed:
                    raise ValueError(f"this file_input does not take .{ext} files")
                files.append(self._file_json(f))  # type: ignore[attr-defined]
        return {"files": files}

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
        for block_id, action_id, element in input_elements(view.get("blocks")):
            supplied = given.get(block_id, {})
            value = supplied.get(action_id)
            if element.get("type") == "file_input":
                value = self._file_input_state(element, value)
            state.setdefault(block_id, {})[action_id] = state_value(element, value)
        for block_id, actions in given.items():
            for action_id, val in actions.items():
                if action_id not in state.get(block_id, {}):
                    state.setdefault(block_id, {})[action_id] = (
                        val if isinstance(val, dict) else {"type": "plain_text_input", "value": val}
                    )
        view["state"] = {"values": state}
        return self.send_interaction({"type": "view_submission", "user": {"id": user_id}, "view": view})
