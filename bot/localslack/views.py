"""The views.* Web API methods: modals (open, push, update) and App Home (publish), and trigger ids."""

from __future__ import annotations

import time
import uuid
from typing import cast

from bot.localslack.args import json_arg, require, str_arg
from bot.localslack.blockkit import ensure_block_ids, view_errors
from bot.localslack.records import JSONDict, SlackError, Trigger
from bot.localslack.workspace import Workspace

MODAL_STACK_LIMIT = 3


class ViewsAPI(Workspace):
    """views.open, views.push, views.update, views.publish."""

    # ---- views ---------------------------------------------------------------------------------------

    def issue_trigger_id(self, user_id: str) -> str:
        """A fresh trigger_id for `user_id`, as Slack puts in commands and interactions (valid 3 s, once)."""
        with self._lock:
            self._counter += 1
            tid = f"{self._counter}.{int(self.clock())}.{uuid.uuid4().hex}"
            self._triggers[tid] = Trigger(id=tid, user_id=user_id, issued=time.monotonic())
            return tid

    def _use_trigger(self, args: JSONDict) -> Trigger:
        require(args, "trigger_id")
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
        require(args, "view")
        view = json_arg(args, "view")
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
            "blocks": ensure_block_ids(view.get("blocks", [])),
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
        view_id = str_arg(args, "view_id")
        external_id = str_arg(args, "external_id")
        if not view_id and not external_id:
            raise SlackError("invalid_arguments", messages=["[ERROR] view_id or external_id is required"])
        current = (
            self._view_objects.get(view_id)
            if view_id
            else next((v for v in self._view_objects.values() if v.get("external_id") == external_id), None)
        )
        if current is None:
            raise SlackError("not_found")
        expected = str_arg(args, "hash")
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
        require(args, "user_id", "view")
        user = self._user(str_arg(args, "user_id"))
        view = self._view_arg(args)
        if view.get("type") != "home":
            raise SlackError(
                "invalid_arguments",
                messages=["[ERROR] views.publish needs a home view [json-pointer:/view/type]"],
            )
        existing_id = self._home_views.get(user.id)
        expected = str_arg(args, "hash")
        if existing_id and expected and expected != self._view_objects[existing_id]["hash"]:
            raise SlackError("hash_conflict")
        view_id = existing_id or self._next_id("V")
        obj = self._build_view(view, view_id=view_id)
        self._home_views[user.id] = view_id
        self._record_view("views.publish", obj, view, user_id=user.id)
        return {"view": obj}
