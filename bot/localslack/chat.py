"""The chat.* Web API methods, and the message content rules they share with response URLs."""

from __future__ import annotations

import time

from bot.localslack.args import json_arg, require, str_arg, truthy
from bot.localslack.blockkit import block_errors, ensure_block_ids
from bot.localslack.records import JSONDict, Message, SlackError
from bot.localslack.workspace import Workspace

MESSAGE_TEXT_LIMIT = 40_000
MESSAGE_BLOCK_LIMIT = 50


class ChatAPI(Workspace):
    """chat.postMessage, chat.postEphemeral, chat.update, chat.delete, chat.getPermalink."""

    # ---- chat ----------------------------------------------------------------------------------------

    def _message_content(
        self, args: JSONDict, *, require_content: bool = True
    ) -> tuple[str, list[JSONDict] | None, list[JSONDict] | None]:
        text = str_arg(args, "text") or ""
        blocks = json_arg(args, "blocks", error="invalid_blocks")
        attachments = json_arg(args, "attachments", error="invalid_attachments")
        if blocks is not None:
            errors = block_errors(blocks, limit=MESSAGE_BLOCK_LIMIT)
            if errors:
                raise SlackError("invalid_blocks", messages=errors)
            blocks = ensure_block_ids(blocks)
        if attachments is not None and not isinstance(attachments, list):
            raise SlackError("invalid_attachments")
        if require_content and not text and not blocks and not attachments:
            raise SlackError("no_text")
        if len(text) > MESSAGE_TEXT_LIMIT:
            text = text[:MESSAGE_TEXT_LIMIT]
        return text, blocks, attachments

    def _metadata_arg(self, args: JSONDict) -> JSONDict | None:
        metadata = json_arg(args, "metadata", error="invalid_metadata_format")
        if metadata is None:
            return None
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            raise SlackError("invalid_metadata_format")
        return metadata

    def _api_chat_postMessage(self, args: JSONDict) -> JSONDict:
        require(args, "channel")
        ch = self._resolve_channel(str_arg(args, "channel"))
        text, blocks, attachments = self._message_content(args)
        metadata = self._metadata_arg(args)
        thread_ts = str_arg(args, "thread_ts") or None
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
                reply_broadcast=bool(thread_ts) and truthy(args.get("reply_broadcast")),
                source="chat.postMessage",
            )
        )
        return {"channel": ch.id, "ts": m.ts, "message": self._message_json(m)}

    def _api_chat_postEphemeral(self, args: JSONDict) -> JSONDict:
        require(args, "channel", "user")
        ch = self._resolve_channel(str_arg(args, "channel"))
        user = self._user(str_arg(args, "user"))
        text, blocks, attachments = self._message_content(args)
        m = self._store(
            Message(
                channel=ch.id,
                ts=self._next_ts(),
                text=text,
                user=self.bot_user_id,
                blocks=blocks,
                thread_ts=str_arg(args, "thread_ts") or None,
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
        require(args, "channel", "ts")
        ch = self._resolve_channel(str_arg(args, "channel"))
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
        require(args, "channel", "ts")
        ch = self._resolve_channel(str_arg(args, "channel"))
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
        require(args, "channel", "message_ts")
        ch = self._resolve_channel(str_arg(args, "channel"))
        m = self.get_message(ch.id, str(args["message_ts"]))
        if m is None or m.deleted:
            raise SlackError("message_not_found")
        return {"channel": ch.id, "permalink": self._permalink(ch.id, m.ts, m.thread_ts)}
