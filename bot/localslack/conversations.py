"""The conversations.* Web API methods: channels, members, IMs and message history."""

from __future__ import annotations

from decimal import InvalidOperation

from bot.localslack.args import decode_cursor, encode_cursor, int_arg, require, str_arg, truthy, ts_key
from bot.localslack.records import Channel, JSONDict, Message, SlackError
from bot.localslack.workspace import Workspace


class ConversationsAPI(Workspace):
    """conversations.info, .list, .members, .open, .history, .replies."""

    # ---- conversations -------------------------------------------------------------------------------

    def _channel_json(
        self, ch: Channel, *, include_num_members: bool = False, include_locale: bool = False
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

    def _channel_members(self, ch: Channel) -> list[str]:
        members = list(ch.members)
        if (ch.bot_member or ch.is_im) and self.bot_user_id not in members:
            members.append(self.bot_user_id)
        return members

    def _api_conversations_info(self, args: JSONDict) -> JSONDict:
        require(args, "channel")
        ch = self._resolve_channel(str_arg(args, "channel"))
        return {
            "channel": self._channel_json(
                ch,
                include_num_members=truthy(args.get("include_num_members")),
                include_locale=truthy(args.get("include_locale")),
            )
        }

    def _api_conversations_list(self, args: JSONDict) -> JSONDict:
        types = {t.strip() for t in (str_arg(args, "types") or "public_channel").split(",") if t.strip()}
        limit = int_arg(args, "limit", 100)
        offset = decode_cursor("conv", str_arg(args, "cursor"))

        def kind(ch: Channel) -> str:
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
            "response_metadata": {"next_cursor": encode_cursor("conv", end) if end < len(chans) else ""},
        }

    def _api_conversations_members(self, args: JSONDict) -> JSONDict:
        require(args, "channel")
        ch = self._resolve_channel(str_arg(args, "channel"))
        limit = int_arg(args, "limit", 100)
        offset = decode_cursor("member", str_arg(args, "cursor"))
        members = self._channel_members(ch)
        page = members[offset : offset + limit] if limit > 0 else members[offset:]
        end = offset + len(page)
        return {
            "members": page,
            "response_metadata": {"next_cursor": encode_cursor("member", end) if end < len(members) else ""},
        }

    def _api_conversations_open(self, args: JSONDict) -> JSONDict:
        return_im = truthy(args.get("return_im"))
        if args.get("channel"):
            ch = self._resolve_channel(str_arg(args, "channel"))
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
            mp = Channel(
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
            oldest = ts_key(str_arg(args, "oldest") or "0")
        except InvalidOperation as exc:
            raise SlackError("invalid_ts_oldest") from exc
        latest_arg = str_arg(args, "latest")
        try:
            latest = ts_key(latest_arg) if latest_arg else None
        except InvalidOperation as exc:
            raise SlackError("invalid_ts_latest") from exc
        inclusive = truthy(args.get("inclusive"))

        def in_range(m: Message) -> bool:
            key = ts_key(m.ts)
            lo = key >= oldest if inclusive else key > oldest
            hi = True if latest is None else (key <= latest if inclusive else key < latest)
            return lo and hi

        selected = [m for m in msgs if in_range(m)]
        selected.sort(key=lambda m: ts_key(m.ts), reverse=newest_first)
        limit = int_arg(args, "limit", 100) or 100
        offset = decode_cursor(kind, str_arg(args, "cursor"))
        page = selected[offset : offset + limit]
        end = offset + len(page)
        include_metadata = truthy(args.get("include_all_metadata"))
        return {
            "messages": [self._message_json(m, include_metadata=include_metadata) for m in page],
            "has_more": end < len(selected),
            "pin_count": 0,
            "response_metadata": {"next_cursor": encode_cursor(kind, end) if end < len(selected) else ""},
        }

    def _api_conversations_history(self, args: JSONDict) -> JSONDict:
        require(args, "channel")
        ch = self._resolve_channel(str_arg(args, "channel"))
        msgs = self.channel_messages(ch.id, top_level=True)
        out = self._page_messages(args, msgs, newest_first=True, kind="history")
        out["channel_actions_ts"] = None
        out["channel_actions_count"] = 0
        return out

    def _api_conversations_replies(self, args: JSONDict) -> JSONDict:
        require(args, "channel", "ts")
        ch = self._resolve_channel(str_arg(args, "channel"))
        ts = str(args["ts"])
        target = self.get_message(ch.id, ts)
        if target is None or target.deleted or target.is_ephemeral:
            raise SlackError("thread_not_found")
        root = target.thread_ts or target.ts
        msgs = self.channel_messages(ch.id, thread_ts=root)
        return self._page_messages(args, msgs, newest_first=False, kind="replies")
