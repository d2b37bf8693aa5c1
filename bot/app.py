"""build_app(): the Bolt app for one configuration (no module-level App)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.runtime import Runtime, system_clock
from bot.settings import Settings
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
    )
    from jobs.context import JobContext

    runtime.background = ThreadPoolExecutor(max_workers=settings.listener_threads, thread_name_prefix="mktbot-after")
    runtime.jobs = JobContext(
        db=runtime.db, client=make_client(settings, retries=True), zone=runtime.zone, clock=runtime.clock
    )
    app = App(
        client=client or make_client(settings),
        signing_secret=settings.signing_secret or "unused-in-socket-mode",
        # Commands finish their short database work before the HTTP response; slow work goes to lazy listeners.
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

    register_commands(app)
    runtime.jobs.locales = app.locales  # type: ignore[attr-defined]  # jobs write to people in their language too

    app.runtime = runtime  # type: ignore[attr-defined]
    return app
