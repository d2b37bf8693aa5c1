"""build_app(): the Bolt app for one configuration (no module-level App)."""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.runtime import Runtime, system_clock
from bot.settings import Settings
from bot.telemetry import InstrumentedApp
from storage.db import Database, open_database

log = logging.getLogger(__name__)


class InjectRuntime(Middleware):
    """Puts the runtime in every request's context (a Middleware subclass: no per-request argument matching)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        req.context["runtime"] = self.runtime
        return next()


class RefusedConnectionRetryHandler(ConnectionErrorRetryHandler):
    """Retry only a connection that was never made. After a reset or a dropped answer Slack may have acted
    (posted, shared a file), and a repeat could do it twice; the caller handles those."""

    def _can_retry(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        reason = getattr(error, "reason", error)
        return response is None and isinstance(reason, ConnectionRefusedError | socket.gaierror)


def make_client(settings: Settings, *, retries: bool = False, timeout: int = 10) -> WebClient:
    """A WebClient that honours SLACK_API_URL. Every client retries only a refused connection (slack_sdk's
    default handler also repeats a request whose answer was lost, which can post twice); scheduled jobs
    also wait out 429s, while the ack path never sleeps."""
    handlers: list[RetryHandler] = [RefusedConnectionRetryHandler(max_retry_count=2)]
    if retries:
        from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

        handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    client = WebClient(token=settings.bot_token, base_url=settings.api_url, timeout=timeout, retry_handlers=handlers)
    return client


class BotIdentity:
    """The bot's own auth.test answer, fetched at start in a background thread (retried with backoff until
    Slack answers) and then reused: no request waits for auth.test, and a Slack that is slow or failing
    never makes a user read Bolt's "reinstall this app" message."""

    def __init__(self, client: WebClient, token: str, on_ready: Callable[[str], None] | None = None) -> None:
        self.client = client
        self.token = token
        self.on_ready = on_ready
        self.result: dict[str, Any] | None = None
        self.ready = threading.Event()
        self.stopping = threading.Event()

    def start(self, *, first_delay: float = 0.5, max_delay: float = 60.0) -> BotIdentity:
        threading.Thread(target=self._run, args=(first_delay, max_delay), name="mktbot-auth-test", daemon=True).start()
        return self

    def _run(self, first_delay: float, max_delay: float) -> None:
        delay = first_delay
        while not self.stopping.is_set():
            try:
                response = self.client.auth_test(token=self.token)
                self.result = {**response.data, "scopes": response.headers.get("x-oauth-scopes")}  # type: ignore[dict-item]
                self.ready.set()
                log.info("auth.test: bot %s in team %s", self.result.get("user_id"), self.result.get("team_id"))
                if self.on_ready is not None and self.result.get("team_id"):
                    self.on_ready(str(self.result["team_id"]))
                return
            except Exception as exc:
                log.warning("auth.test failed (%s); retrying in %.1f s", exc, delay)
            if self.stopping.wait(delay):
                return
            delay = min(max_delay, delay * 2)

    def authorize(self, enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
        """Bolt's `authorize`: from memory only. Before auth.test has answered, the request's own team and
        the configured token are enough to serve it."""
        known = self.result or {}
        return AuthorizeResult(
            enterprise_id=known.get("enterprise_id") or enterprise_id,
            team_id=known.get("team_id") or team_id,
            bot_id=known.get("bot_id"),
            bot_user_id=known.get("user_id"),
            bot_token=self.token,
            bot_scopes=known.get("scopes"),
            user_id=user_id,
        )


def build_app(
    settings: Settings,
    *,
    client: WebClient | None = None,
    db: Database | None = None,
    clock: Callable[[], datetime] | None = None,
) -> App:
    if not settings.bot_token:
        raise SystemExit("SLACK_BOT_TOKEN is not set.")
    if not settings.signing_secret and not settings.app_token:
        raise SystemExit("SLACK_SIGNING_SECRET is not set (or SLACK_APP_TOKEN for Socket Mode).")
    runtime = Runtime(
        db=db or open_database(settings.database_url),
        zone=settings.zone,
        clock=clock or system_clock,
        seal_key=hashlib.sha256(
            f"mktbot-view\n{settings.signing_secret or settings.app_token or settings.bot_token}".encode()
        ).digest(),
    )
    from bot.after_ack import AfterAck
    from jobs.context import JobContext

    runtime.after_ack = AfterAck(runtime)
    runtime.background = ThreadPoolExecutor(max_workers=settings.listener_threads, thread_name_prefix="mktbot-after")
    runtime.jobs = JobContext(
        db=runtime.db, client=make_client(settings, retries=True), zone=runtime.zone, clock=runtime.clock
    )
    client = client or make_client(settings)
    directory_client = make_client(settings)
    identity = BotIdentity(
        client, settings.bot_token, on_ready=lambda team_id: runtime.directory.warm(directory_client, team_id)
    ).start()
    app = InstrumentedApp(  # ack latency and commands by outcome (/metrics)
        client=client,
        # Bolt's own single-team authorization calls auth.test on the first request, and answers every
        # request with "reinstall this app" while it fails; this one answers from memory.
        authorize=lambda enterprise_id, team_id, user_id: identity.authorize(enterprise_id, team_id, user_id),
        signing_secret=settings.signing_secret or "unused-in-socket-mode",
        # Commands finish their short database work before the HTTP response; slow work runs after it (bot.after_ack).
        process_before_response=True,
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(max_workers=settings.listener_threads, thread_name_prefix="mktbot-lazy"),
        request_verification_enabled=bool(settings.signing_secret),
    )

    app.use(InjectRuntime(runtime))

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.exception("unhandled error for %s", body.get("type") or body.get("command"), exc_info=error)

    from commands import register as register_commands

    register_commands(app, runtime)
    app.locales = runtime.locales  # type: ignore[attr-defined]
    runtime.jobs.locales = runtime.locales  # jobs write to people in their language too

    app.runtime = runtime  # type: ignore[attr-defined]
    app.identity = identity  # type: ignore[attr-defined]
    return app
