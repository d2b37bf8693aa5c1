"""The browser playground's JSON API on LocalSlack: what a user sees, and what they do (as Slack would send it).

    GET  /playground/state?user=U…&since=<etag>   the workspace as `user` sees it (or {"unchanged": true})
    POST /playground/command  {user, channel, text}            a slash command, signed, like Slack's
    POST /playground/message  {user, channel, text, thread_ts?} a message (event to the bot)
    POST /playground/click    {user, action_id, block_id?, value?, channel+ts | view_id}  block_actions
    POST /playground/submit   {user, view_id, values}          view_submission; field errors come back
    POST /playground/close    {user, view_id}                  the user closes a modal
    POST /playground/home     {user}                           app_home_opened
    POST /playground/clock    {action: digest|schedules|advance, channel?, hours?}   via `ClockHooks`
    GET  /playground/font/cjk  a CJK font for the page (from the charts' font package), when installed

Everything the bot receives goes through LocalSlack's drivers (send_command, post_user_message,
click_button, submit_view, open_app_home), so the bot cannot tell the page from Slack. POST bodies must
be JSON: a form on another site cannot post here without a CORS preflight, which this API never answers.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import re
import urllib.parse
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

from bot.localslack.mrkdwn import escape_text
from bot.localslack.records import HTTPResult, Message, SlackError
from bot.localslack.slack import LocalSlack

__all__ = ["ClockHooks", "Member", "PlaygroundAPI"]

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]


class ClockHooks(Protocol):
    """What the clock panel drives; implemented by bot.playground (LocalSlack knows nothing of jobs)."""

    def clock_state(self) -> JSONDict: ...

    def run_digest(self, channel: str) -> str: ...

    def run_schedules(self) -> str: ...

    def advance(self, hours: int) -> str: ...


@dataclass(frozen=True)
class Member:
    """A person the page can switch to (added to LocalSlack's directory by the caller)."""

    id: str
    name: str
    real_name: str
    title: str = ""
    locale: str = "en-US"
    color: str = "#4a154b"


class BadRequest(Exception):
    pass


CJK_FONT = ("paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc")  # shipped for the charts; the page uses it too


@functools.cache
def cjk_font() -> bytes | None:
    """WenQuanYi Micro Hei as a plain TrueType font (browsers do not load .ttc collections), so Chinese
    names render even where the system has no CJK font. fontTools comes with matplotlib."""
    try:
        from fontTools.ttLib import TTCollection

        with resources.as_file(resources.files(CJK_FONT[0]).joinpath(CJK_FONT[1])) as path:
            collection = TTCollection(str(path))
            out = io.BytesIO()
            collection.fonts[0].save(out)
            return out.getvalue()
    except Exception:  # no package, no file, or an unreadable font: the page falls back to system fonts
        log.info("no CJK font for the playground page", exc_info=True)
        return None


MENTION = re.compile(r"(?<![<\w@])@([\w.\-\u00c0-\uffff]+)")


class PlaygroundAPI:
    def __init__(self, slack: LocalSlack, *, members: list[Member], hooks: ClockHooks | None = None) -> None:
        self.slack = slack
        self.members = members
        self.hooks = hooks

    # ---- routing ----------------------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, str], raw: bytes, content_type: str
    ) -> tuple[int, bytes, str, dict[str, str]]:
        """(status, body, content type, headers) for one request under /playground/."""
        route = path.removeprefix("/playground/").strip("/")
        if method in ("GET", "HEAD") and route == "font/cjk":
            font = cjk_font()
            if font is None:
                return 404, b"no CJK font installed", "text/plain; charset=utf-8", {}
            return 200, font, "font/ttf", {"Cache-Control": "max-age=86400"}
        status, payload = self._json_route(method, route, query, raw, content_type)
        body = json.dumps(payload, ensure_ascii=False, default=str).encode()
        return status, body, "application/json; charset=utf-8", {"Cache-Control": "no-store"}

    def _json_route(
        self, method: str, route: str, query: dict[str, str], raw: bytes, content_type: str
    ) -> tuple[int, JSONDict]:
        try:
            if method in ("GET", "HEAD"):
                if route == "state":
                    return 200, self.state(query.get("user") or self.members[0].id, since=query.get("since"))
                return 404, {"ok": False, "error": "not_found"}
            if method != "POST":
                return 405, {"ok": False, "error": "method_not_allowed"}
            if content_type.split(";")[0].strip().lower() != "application/json":
                return 415, {"ok": False, "error": "json_required"}
            try:
                body = json.loads(raw.decode("utf-8") or "{}")
            except (UnicodeDecodeError, json.JSONDecodeError):
                return 400, {"ok": False, "error": "invalid_json"}
            if not isinstance(body, dict):
                return 400, {"ok": False, "error": "json_not_object"}
            action = {
                "command": self.command,
                "message": self.message,
                "click": self.click,
                "submit": self.submit,
                "close": self.close,
                "home": self.home,
                "clock": self.clock,
            }.get(route)
            if action is None:
                return 404, {"ok": False, "error": "not_found"}
            return 200, action(body)
        except (BadRequest, ValueError, SlackError) as exc:
            return 400, {"ok": False, "error": str(exc)}
        except Exception as exc:  # the page shows it; the server keeps going
            log.exception("playground %s failed", route)
            return 500, {"ok": False, "error": f"{type(exc).__name__}: {exc}"}

    # ---- reading ----------------------------------------------------------------------------------------

    def _member(self, user_id: Any) -> str:
        if not isinstance(user_id, str) or not any(m.id == user_id for m in self.members):
            raise BadRequest(f"unknown user {user_id!r}")
        return user_id

    def state(self, user_id: str, *, since: str | None = None) -> JSONDict:
        """What `user_id` sees. The etag covers everything but the clock, so an idle page redraws nothing."""
        user_id = self._member(user_id)
        slack = self.slack
        im = slack.im_channel(user_id)
        with slack._lock:  # a consistent snapshot; LocalSlack's lock is re-entrant
            channels = [
                {
                    "id": ch.id,
                    "name": ch.name,
                    "topic": ch.topic,
                    "purpose": ch.purpose,
                    "is_private": ch.is_private,
                    "members": len(slack._channel_members(ch)),
                }
                for ch in slack._channels.values()
                if not ch.is_im and not ch.is_mpim
            ]
            channels.sort(key=lambda c: (c["name"] != "general", c["name"]))
            visible = {c["id"] for c in channels} | {im}
            messages = [
                self._message(m)
                for m in slack.messages
                if m.channel in visible
                and not m.deleted
                and (m.ephemeral_user is None or m.ephemeral_user == user_id)
            ]
            modals = slack.open_views(user_id)
            modal = modals[-1] if modals else None
            home = slack.home_view(user_id)
            users = [
                {
                    "id": u.id,
                    "name": u.name,
                    "real_name": u.real_name,
                    "display_name": u.display_name,
                    "locale": u.locale,
                    "tz": u.tz,
                    "is_bot": u.is_bot,
                }
                for u in slack._users.values()
            ]
        body: JSONDict = {
            "team": {"id": slack.team_id, "name": slack.team_name},
            "me": user_id,
            "bot": {"id": slack.bot_user_id, "name": slack.bot_name},
            "members": [m.__dict__ for m in self.members],
            "users": users,
            "channels": channels,
            "im": {"id": im, "name": slack.bot_name},
            "messages": messages,
            "modal": modal,
            "modal_depth": len(modals),
            "home": home,
        }
        etag = hashlib.sha1(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]
        clock = self.hooks.clock_state() if self.hooks is not None else None
        if since == etag:
            return {"etag": etag, "unchanged": True, "clock": clock}
        return {**body, "etag": etag, "unchanged": False, "clock": clock}

    def _message(self, m: Message) -> JSONDict:
        files = []
        for f in m.files:
            name = str(f.get("name") or "file")
            files.append(
                {
                    "id": f.get("id"),
                    "name": name,
                    "title": f.get("title") or name,
                    "mimetype": f.get("mimetype"),
                    "size": f.get("size"),
                    # same origin as the page, whatever host name the browser used
                    "url": f"/files/{f.get('id')}/{urllib.parse.quote(name)}",
                }
            )
        return {
            "channel": m.channel,
            "ts": m.ts,
            "thread_ts": m.thread_ts if m.thread_ts and m.thread_ts != m.ts else None,
            "user": m.user,
            "text": m.text,
            "blocks": m.blocks if m.source != "user" else None,
            "attachments": m.attachments,
            "files": files,
            "ephemeral": m.ephemeral_user is not None,
            "edited": m.edited_ts is not None,
            "bot": m.bot_id is not None,
            "broadcast": m.reply_broadcast,
            "reactions": [{"name": n, "count": len(us)} for n, us in m.reactions.items() if us],
            "source": m.source,
        }

    # ---- what the user does -----------------------------------------------------------------------------

    def _text(self, body: JSONDict, *, command: bool) -> str:
        """What the person typed as Slack sends it: `&`, `<`, `>` escaped (`&amp;`, `&lt;`, `&gt;`),
        then `@name` made into a mention as the client's autocomplete would (`<@U…|bo>` in a command)."""
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadRequest("type something first")
        return self._mentions(escape_text(text.strip()), named=command)

    def _mentions(self, text: str, *, named: bool) -> str:
        """`@bo` becomes a mention, as Slack's autocomplete makes it (`<@U…|bo>` when `named`: a command's text)."""
        names: dict[str, tuple[str, str]] = {}
        with self.slack._lock:
            for u in self.slack._users.values():
                for candidate in (u.name, u.display_name, u.real_name):
                    if candidate:
                        names.setdefault(candidate.casefold(), (u.id, u.name))

        def replace(match: re.Match[str]) -> str:
            word = match.group(1)
            tail = ""
            while word and word.casefold() not in names and word[-1] in ".,-":
                word, tail = word[:-1], word[-1] + tail
            found = names.get(word.casefold())
            if found is None:
                return match.group(0)
            return (f"<@{found[0]}|{found[1]}>" if named else f"<@{found[0]}>") + tail

        return MENTION.sub(replace, text)

    def _channel(self, body: JSONDict) -> str:
        channel = body.get("channel")
        if not isinstance(channel, str) or not channel:
            raise BadRequest("no channel")
        return channel

    @staticmethod
    def _outcome(result: HTTPResult, what: str) -> JSONDict:
        """Slack's own wording when the app fails to answer (`/task failed with the error "…"`)."""
        if result.status == 0:
            return {"ok": False, "error": f'{what} failed with the error "dispatch_failed" (the bot is not running)'}
        if result.late:
            return {"ok": False, "error": f'{what} failed with the error "operation_timeout"'}
        if result.status == 404:
            return {"ok": False, "error": f"{what} is not a valid command (the bot does not handle it)"}
        if not result.ok:
            return {"ok": False, "error": f'{what} failed with the error "http_{result.status}"'}
        return {"ok": True}

    def command(self, body: JSONDict) -> JSONDict:
        user = self._member(body.get("user"))
        channel = self._channel(body)
        line = self._text(body, command=True)
        if not line.startswith("/"):
            raise BadRequest("a slash command starts with /")
        command, _, text = line.partition(" ")
        result = self.slack.send_command(command, text.strip(), user_id=user, channel_id=channel)
        return self._outcome(result, command)

    def message(self, body: JSONDict) -> JSONDict:
        user = self._member(body.get("user"))
        channel = self._channel(body)
        text = self._text(body, command=False)
        thread_ts = body.get("thread_ts") if isinstance(body.get("thread_ts"), str) else None
        m = self.slack.post_user_message(channel, user, text, thread_ts=thread_ts or None, escaped=True)
        return {"ok": True, "ts": m.ts}

    def click(self, body: JSONDict) -> JSONDict:
        user = self._member(body.get("user"))
        action_id = body.get("action_id")
        if not isinstance(action_id, str):
            raise BadRequest("no action_id")
        block_id = body.get("block_id") if isinstance(body.get("block_id"), str) else None
        target: Message | str
        if isinstance(body.get("view_id"), str):
            target = body["view_id"]
        else:
            channel, ts = body.get("channel"), body.get("ts")
            found = self.slack.get_message(channel, ts) if isinstance(channel, str) and isinstance(ts, str) else None
            if found is None or found.deleted:
                raise BadRequest("that message is gone")
            if found.ephemeral_user not in (None, user):
                raise BadRequest("that message is not yours to click")
            target = found
        result = self.slack.click_button(target, action_id, user_id=user, value=body.get("value"), block_id=block_id)
        return self._outcome(result, "That button")

    def submit(self, body: JSONDict) -> JSONDict:
        user = self._member(body.get("user"))
        view_id = body.get("view_id")
        if not isinstance(view_id, str) or self.slack.get_view(view_id) is None:
            raise BadRequest("that form is no longer open")
        values = body.get("values") if isinstance(body.get("values"), dict) else {}
        result = self.slack.submit_view(view_id, user_id=user, values=values)
        outcome = self._outcome(result, "Submitting")
        ack = result.body if isinstance(result.body, dict) else {}
        if ack.get("response_action") == "errors":
            return {"ok": False, "errors": ack.get("errors") or {}}
        return outcome

    def close(self, body: JSONDict) -> JSONDict:
        user = self._member(body.get("user"))
        view_id = body.get("view_id")
        slack = self.slack
        with slack._lock:
            stack = slack._modal_stacks.get(user, [])
            if not isinstance(view_id, str) or view_id not in stack:
                return {"ok": True}
            view = slack._view_objects.get(view_id)
            # Slack's × closes the whole stack; its "Cancel"/back closes the top view only
            closed = list(stack) if body.get("all", True) else [view_id]
            del stack[stack.index(closed[0]) :]
            slack._changed.notify_all()
        if view is not None and view.get("notify_on_close"):
            slack.send_interaction(
                {"type": "view_closed", "user": {"id": user}, "view": view, "is_cleared": len(closed) > 1}
            )
        return {"ok": True}

    def home(self, body: JSONDict) -> JSONDict:
        user = self._member(body.get("user"))
        if not self.slack.bot_url:
            return {"ok": False, "error": "the bot is not running"}
        result = self.slack.open_app_home(user, tab=str(body.get("tab") or "home"))
        # An app without a Home tab answers 404 ("unhandled"); the page then says there is no Home yet.
        return {"ok": result.ok or result.status == 404, "handled": result.ok}

    def clock(self, body: JSONDict) -> JSONDict:
        if self.hooks is None:
            raise BadRequest("this server has no clock panel")
        action = body.get("action")
        if action == "digest":
            note = self.hooks.run_digest(self._channel(body))
        elif action == "schedules":
            note = self.hooks.run_schedules()
        elif action == "advance":
            hours = body.get("hours", 24)
            if not isinstance(hours, int) or not 1 <= hours <= 24 * 14:
                raise BadRequest("advance by 1 hour to 14 days")
            note = self.hooks.advance(hours)
        else:
            raise BadRequest(f"unknown clock action {action!r}")
        return {"ok": True, "note": note, "clock": self.hooks.clock_state()}
