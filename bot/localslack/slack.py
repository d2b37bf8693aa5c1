"""`LocalSlack`: the Web API families put together, the method table and dispatch (recording, auth,
canned and lost answers), and the HTTP server's lifecycle.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

from bot.localslack.auth import AuthAPI
from bot.localslack.chat import ChatAPI
from bot.localslack.conversations import ConversationsAPI
from bot.localslack.drivers import Drivers
from bot.localslack.faults import Faults
from bot.localslack.files import FilesAPI
from bot.localslack.httpd import Handler, Server
from bot.localslack.reactions import ReactionsAPI
from bot.localslack.records import Call, JSONDict, SlackError
from bot.localslack.response_url import ResponseURLs
from bot.localslack.users import UsersAPI
from bot.localslack.views import ViewsAPI


class LocalSlack(
    Drivers,
    ViewsAPI,
    ResponseURLs,
    ChatAPI,
    AuthAPI,
    UsersAPI,
    ConversationsAPI,
    ReactionsAPI,
    FilesAPI,
    Faults,
):
    """A Slack workspace on localhost. See bot.localslack.httpd for the routes."""

    # ---- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> LocalSlack:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = Server((self.host, self.port), Handler)
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
        self.close_sockets()
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

    # ---- Web API dispatch ----------------------------------------------------------------------------

    @functools.cached_property
    def _methods(self) -> dict[str, Callable[[JSONDict], JSONDict]]:
        """The Web API methods this Slack answers (any other: unknown_method)."""
        return {
            "api.test": self._api_api_test,
            "apps.connections.open": self._api_apps_connections_open,
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

    def handle_api(
        self, method: str, args: JSONDict, headers: dict[str, str], *, decode_error: SlackError | None = None
    ) -> tuple[int, JSONDict, dict[str, str], float]:
        """Record the call, then answer: (status, JSON body, extra headers, delay before answering)."""
        with self._lock:
            self.calls.append(Call(method=method, args=args, headers=headers, at=time.time()))
            try:
                if decode_error is not None:
                    raise decode_error
                self._check_auth(method, args, headers)
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
                    return 0, {}, {}, 0.0  # done; Handler drops the connection instead of answering
                extra = {"x-oauth-scopes": self.scopes} if method == "auth.test" else {}
                return 200, {"ok": True, **body}, extra, self.api_delay
            except SlackError as err:
                out: JSONDict = {"ok": False, "error": err.error}
                if err.messages:
                    out["response_metadata"] = {"messages": err.messages}
                return err.status, out, {}, self.api_delay
            finally:
                self._changed.notify_all()

    def _check_auth(self, method: str, args: JSONDict, headers: dict[str, str]) -> None:
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
        if method == "apps.connections.open":
            # Slack takes the app-level token here only, and only in the Authorization header.
            if token == self.bot_token:
                raise SlackError("not_allowed_token_type")
            if token != self.app_token or auth is None:
                raise SlackError("invalid_auth")
            return
        if token == self.app_token:
            raise SlackError("not_allowed_token_type")
        if token != self.bot_token:
            raise SlackError("invalid_auth")
