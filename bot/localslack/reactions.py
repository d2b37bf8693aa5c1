"""The reactions.* Web API methods."""

from __future__ import annotations

from bot.localslack.args import require, str_arg
from bot.localslack.records import JSONDict, Message, SlackError
from bot.localslack.workspace import Workspace


class ReactionsAPI(Workspace):
    """reactions.add, reactions.remove."""

    # ---- reactions -----------------------------------------------------------------------------------

    def _reaction_target(self, args: JSONDict) -> Message:
        require(args, "channel", "name", "timestamp")
        ch = self._resolve_channel(str_arg(args, "channel"))
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
