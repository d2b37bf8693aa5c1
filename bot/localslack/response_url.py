"""Response URLs: what Slack does with a command's ack body and with posts to a command's or an
interaction's response_url (up to 5 posts within 30 minutes).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from bot.localslack.args import str_arg, truthy
from bot.localslack.chat import ChatAPI
from bot.localslack.httpd import decode_form
from bot.localslack.records import JSONDict, Message, ResponseURL, SlackError

RESPONSE_URL_MAX_POSTS = 5
RESPONSE_URL_TTL = 30 * 60.0


class ResponseURLs(ChatAPI):
    """Command acks and response URL posts, applied as Slack applies them."""

    # ---- response_url --------------------------------------------------------------------------------

    def _new_response_url(self, **kwargs: Any) -> ResponseURL:
        with self._lock:
            rid = uuid.uuid4().hex
            ctx = ResponseURL(id=rid, created=time.monotonic(), **kwargs)
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
                    form = decode_form(raw)
                    payload = json.loads(form["payload"]) if "payload" in form else form
                except (UnicodeDecodeError, json.JSONDecodeError):
                    payload = None
            record: JSONDict = {"url_id": rid, "body": payload, "at": time.time()}
            self.responses.append(record)
            try:
                if self._response_url_failures > 0:
                    self._response_url_failures -= 1
                    status, answer = 500, "internal_error"
                elif ctx is None:
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

    def _apply_response(self, ctx: ResponseURL, body: JSONDict, *, source: str) -> Message | None:
        """What Slack does with an ack body or a response_url post."""
        with self._lock:
            original_ts = ctx.original_ts or ctx.last_ts
            if truthy(body.get("delete_original")):
                target = self.get_message(ctx.channel, original_ts) if original_ts else None
                if target is not None:
                    target.deleted = True
                return None
            text, blocks, attachments = self._message_content(body)
            if truthy(body.get("replace_original")) and original_ts:
                target = self.get_message(ctx.channel, original_ts)
                if target is not None and not target.deleted:
                    self._edit(
                        target, text=text, blocks=blocks, metadata=None, attachments=attachments, via=source
                    )
                    return target
            in_channel = body.get("response_type") == "in_channel"
            thread_ts = str_arg(body, "thread_ts") or ctx.thread_ts
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
