"""The Slack client a delivery run posts through: slack_sdk's AsyncWebClient on one keep-alive aiohttp session,
retry handlers that never repeat a post, and the gate that bounds requests in flight."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.web.slack_response import SlackResponse

if TYPE_CHECKING:
    from jobs.context import JobContext

T = TypeVar("T")


class _NotForPosts:
    """Retry only calls that cannot post: a repeated chat.postMessage after a 5xx or a dropped connection
    could post twice, and its 429s are paced by the lane itself."""

    async def _can_retry_async(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.endswith("/chat.postMessage"):
            return False
        return await super()._can_retry_async(  # type: ignore[misc, no-any-return]
            state=state, request=request, response=response, error=error
        )


class _ReadRateLimitRetry(_NotForPosts, AsyncRateLimitErrorRetryHandler):
    pass


class _ReadServerErrorRetry(_NotForPosts, AsyncServerErrorRetryHandler):
    pass


class _ReadConnectionRetry(_NotForPosts, AsyncConnectionErrorRetryHandler):
    pass


def retry_handlers() -> list[AsyncRetryHandler]:
    return [
        # A refused connection never reached Slack: safe to retry for every method.
        AsyncConnectionErrorRetryHandler(max_retry_count=2, error_types=[aiohttp.ClientConnectorError]),
        _ReadRateLimitRetry(max_retry_count=3),
        _ReadServerErrorRetry(max_retry_count=2),
        _ReadConnectionRetry(max_retry_count=2),
    ]


def _sdk_logger() -> logging.Logger:
    # slack_sdk formats a debug line per request whenever its logger's own level is NOTSET; give it the
    # effective level so that it only does so when debug logging is on.
    logger = logging.getLogger("slack_sdk.web.async_client.mktbot")
    logger.setLevel(logging.getLogger("slack_sdk").getEffectiveLevel())
    return logger


@dataclass
class Sender:
    """An AsyncWebClient on one keep-alive aiohttp session, and the gate that bounds requests in flight."""

    client: AsyncWebClient
    gate: asyncio.Semaphore
    session: aiohttp.ClientSession
    busy: int = 0  # requests waiting for the gate or in flight
    quiet: asyncio.Event = field(default_factory=asyncio.Event)  # set while busy == 0

    async def call(self, request: Callable[[], Awaitable[T]]) -> T:
        self.busy += 1
        self.quiet.clear()
        try:
            async with self.gate:
                return await request()
        finally:
            self.busy -= 1
            if not self.busy:
                self.quiet.set()

    async def post_message(self, args: dict[str, Any]) -> AsyncSlackResponse:
        """chat.postMessage through slack_sdk's client; the retry handlers never repeat a post (see _NotForPosts).

        `args` are what `lanes.Run.send_one` builds: JSON-ready, no None values, always a text. That is what
        `chat_postMessage` would make of them, so the call goes to `api_call` as it would, without the
        per-call rebuilding of twenty keyword arguments (about 5 % of a post's CPU in a fan-out)."""
        return await self.call(partial(self.client.api_call, "chat.postMessage", json=args))


@contextlib.asynccontextmanager
async def open_sender(ctx: JobContext) -> AsyncIterator[Sender]:
    """The job client's token, base URL (SLACK_API_URL), headers, proxy and timeout, on an async session.

    The connector allows exactly `delivery_senders` connections and the gate lets no more requests than that
    in flight, so no request ever waits for a connection inside its own timeout."""
    sync = ctx.client
    senders = max(1, ctx.delivery_senders)
    timeout = float(getattr(sync, "timeout", 30) or 30)
    connector = aiohttp.TCPConnector(limit=senders, limit_per_host=senders, ssl=getattr(sync, "ssl", None) or True)
    # Slack's Web API sets no cookies worth keeping: skip the jar's work on every request.
    session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout),
                                    cookie_jar=aiohttp.DummyCookieJar())
    try:
        client = AsyncWebClient(
            token=sync.token,
            base_url=sync.base_url,
            timeout=int(timeout),
            ssl=getattr(sync, "ssl", None),
            proxy=getattr(sync, "proxy", None),
            headers=dict(getattr(sync, "headers", None) or {}),
            session=session,
            logger=_sdk_logger(),
            retry_handlers=retry_handlers(),
        )
        yield Sender(client=client, gate=asyncio.Semaphore(senders), session=session)
    finally:
        await session.close()


def answer_of(exc: SlackApiError) -> tuple[int, str | None]:
    """(HTTP status, Slack's error code) of a failed call; no code when Slack's answer was not JSON."""
    response = exc.response
    if isinstance(response, AsyncSlackResponse | SlackResponse):
        return response.status_code, str(response.get("error") or response.status_code)
    return int(getattr(response, "status", 0) or 0), None  # the raw HTTP response of an unreadable answer


def retry_after_of(headers: Any) -> float:
    """Seconds to wait from a 429's Retry-After header (1 s when it has none that can be read)."""
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                break
    return 1.0
