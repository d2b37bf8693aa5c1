"""The users.* Web API methods."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.localslack.args import decode_cursor, encode_cursor, int_arg, require, str_arg, truthy
from bot.localslack.records import JSONDict, User
from bot.localslack.workspace import Workspace


class UsersAPI(Workspace):
    """users.info, users.list."""

    # ---- users ---------------------------------------------------------------------------------------

    def _user_json(self, u: User, *, include_locale: bool) -> JSONDict:
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
            "is_admin": u.is_admin or u.is_owner,
            "is_owner": u.is_owner,
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

    def _api_users_info(self, args: JSONDict) -> JSONDict:
        require(args, "user")
        user = self._user(str_arg(args, "user"))
        return {"user": self._user_json(user, include_locale=truthy(args.get("include_locale")))}

    def _api_users_list(self, args: JSONDict) -> JSONDict:
        limit = int_arg(args, "limit", 0)
        offset = decode_cursor("user", str_arg(args, "cursor"))
        with self._lock:
            users = list(self._users.values())
        page = users[offset:] if limit <= 0 else users[offset : offset + limit]
        end = offset + len(page)
        include_locale = truthy(args.get("include_locale"))
        return {
            "members": [self._user_json(u, include_locale=include_locale) for u in page],
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": encode_cursor("user", end) if end < len(users) else ""},
        }
