"""Serving the Bolt app over HTTP: waitress threads in one process, or gunicorn worker processes."""

from __future__ import annotations

import io
import json
import logging
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.middleware import RequestVerification
from slack_sdk.signature import SignatureVerifier

from bot.api.app import make_api
from bot.api.app import routes as api_routes
from bot.settings import Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"

#: a larger body is refused unread (Slack's own payloads are far smaller)
MAX_BODY_BYTES = 1_000_000


def _refuse(start_response: Callable[..., Any], status: str, text: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain")])
    return [text.encode()]


def _well_formed(body: bytes, content_type: str) -> bool:
    """Whether Bolt can parse this body: a form (its `payload=` JSON when there is one) or a JSON object."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            return isinstance(json.loads(text), dict)
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return False
        form = urllib.parse.parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
        if "payload" in form:
            return isinstance(json.loads(form["payload"][0]), dict)
        return True
    except (UnicodeDecodeError, ValueError):
        return False


def _signed(verifier: SignatureVerifier, body: bytes, headers: dict[str, str]) -> bool:
    """slack_sdk's check, which decodes the body as UTF-8 first: Slack only sends UTF-8, so a body that is
    not cannot carry Slack's signature."""
    try:
        return verifier.is_valid_request(body, headers)
    except UnicodeDecodeError:
        return False


def wsgi_app(
    app: App, *, heartbeat_max_age: float | None = None, events: bool = True
) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """The bot's WSGI application. `heartbeat_max_age`: this process runs a scheduler, and `/readyz` is 503
    once its heartbeat is older than that many seconds. `events=False` (Socket Mode): Slack's traffic comes
    over the WebSocket, and /slack/events is not served (nothing would verify a request there)."""
    from bot.telemetry import metrics_registry, readiness, render_metrics

    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    verifying = any(isinstance(m, RequestVerification) for m in app._middleware_list)
    verifier = SignatureVerifier(app._signing_secret) if verifying else None
    runtime = getattr(app, "runtime", None)  # a bare Bolt app (the benchmarks' floor) serves no API
    api = make_api(runtime.db) if runtime is not None else None
    registry = metrics_registry(runtime.db if runtime is not None else None)
    draining = threading.Event()
    app.draining = draining  # type: ignore[attr-defined]  # set at SIGTERM: /readyz answers 503 from then on

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path in ("/healthz", "/health") and method == "GET":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if path == "/readyz" and method == "GET":
            ready, why = (False, "shutting down") if draining.is_set() else (
                readiness(runtime.db, heartbeat_max_age=heartbeat_max_age) if runtime is not None else (True, "ready"))
            return _refuse(start_response, "200 OK" if ready else "503 Service Unavailable", why)
        if path == "/metrics" and method == "GET":
            body, content_type = render_metrics(registry)
            start_response("200 OK", [("Content-Type", content_type)])
            return [body]
        if api is not None and api_routes(environ.get("PATH_INFO") or ""):
            return api(environ, start_response)
        if not events:
            return _refuse(start_response, "404 Not Found", "not found (Socket Mode: Slack's traffic comes over the WebSocket)")
        stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        if stamp is not None and not stamp.strip().isdigit():
            # slack_sdk's verifier raises on a non-numeric timestamp; it is simply not a request from Slack.
            start_response("401 Unauthorized", [("Content-Type", "text/plain")])
            return [b"invalid request"]
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") == EVENTS_PATH:
            # The signature is checked on the raw body before anything parses it; then its shape.
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return _refuse(start_response, "400 Bad Request", "invalid content length")
            if length > MAX_BODY_BYTES:
                return _refuse(start_response, "413 Request Entity Too Large", "request body too large")
            body = environ["wsgi.input"].read(length) if length > 0 else b""
            headers = {
                "x-slack-request-timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "",
                "x-slack-signature": environ.get("HTTP_X_SLACK_SIGNATURE") or "",
            }
            if verifier is not None and not (all(headers.values()) and _signed(verifier, body, headers)):
                return _refuse(start_response, "401 Unauthorized", "invalid request")
            if not _well_formed(body, (environ.get("CONTENT_TYPE") or "").lower()):
                return _refuse(start_response, "400 Bad Request", "malformed request body")
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return slack(environ, start_response)  # type: ignore[arg-type]

    return application


def make_server(app: App, *, host: str = "0.0.0.0", port: int = 3000, threads: int = 32,
                heartbeat_max_age: float | None = None, events: bool = True) -> Any:
    from waitress.server import create_server

    return create_server(
        wsgi_app(app, heartbeat_max_age=heartbeat_max_age, events=events), host=host, port=port, threads=threads, ident="mktbot", connection_limit=1000, channel_timeout=30,
        # select() fails for descriptors above 1023 and takes the whole server down; poll() has no such limit.
        asyncore_use_poll=True,
    )


DRAIN_SECONDS = 10.0


def serve(app: App, *, host: str = "0.0.0.0", port: int = 3000, threads: int = 32,
          heartbeat_max_age: float | None = None, scheduler: Any = None, socket_mode: Any = None,
          drain_seconds: float = DRAIN_SECONDS) -> bool:
    """Serve until SIGTERM or SIGINT, then drain (bot.runtime.drain): stop accepting, answer what is in
    flight, finish queued follow-ups, shut the scheduler down; all within `drain_seconds`. With a Socket Mode
    handler, Slack's traffic comes over its WebSocket and HTTP serves only /healthz, /readyz and /metrics.
    Returns whether the drain finished in time."""
    from bot.runtime import drain, freeze_startup_heap, wait_for_signal

    server = BackgroundServer(app, host=host, port=port, threads=threads, heartbeat_max_age=heartbeat_max_age,
                              events=socket_mode is None)
    freeze_startup_heap()
    server.start()
    if socket_mode is not None:
        socket_mode.connect()
        log.info("connected with Socket Mode; health and metrics on http://%s:%s", host, server.server.effective_port)
    else:
        log.info("listening on http://%s:%s%s", host, server.server.effective_port, EVENTS_PATH)
    signalled = wait_for_signal(until=lambda: not server.thread.is_alive())
    if signalled is None:
        log.error("the HTTP server stopped by itself; shutting down")
    draining = getattr(app, "draining", None)
    if draining is not None:
        draining.set()

    def stop_accepting() -> None:
        if socket_mode is not None:
            socket_mode.close()
        server.drain(timeout=max(1.0, drain_seconds / 2))

    return drain(app, stop_accepting=stop_accepting if signalled is not None else None, scheduler=scheduler,
                 timeout=drain_seconds)


class BackgroundServer:
    """The real HTTP stack in a thread, for tests, benchmarks, the playground and `serve`."""

    def __init__(self, app: App, *, host: str = "127.0.0.1", port: int = 0, threads: int = 32,
                 heartbeat_max_age: float | None = None, events: bool = True) -> None:
        self.server = make_server(app, host=host, port=port, threads=threads, heartbeat_max_age=heartbeat_max_age,
                                  events=events)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="mktbot-http", daemon=True)

    def _run(self) -> None:
        try:
            self.server.run()
        except (OSError, ValueError):
            # Closing waitress from another thread can pull a socket out from under its select loop.
            if not self.stopping.is_set():
                raise

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.effective_port}{EVENTS_PATH}"

    def start(self) -> BackgroundServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.close()
        self.thread.join(timeout=5)

    def drain(self, timeout: float = 5.0) -> None:
        """Stop accepting connections, let the requests in flight be answered (up to `timeout`), then stop."""
        import time

        self.server.accepting = False  # waitress's listener stops reading its socket
        dispatcher = self.server.task_dispatcher
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with dispatcher.lock:
                busy = dispatcher.active_count or dispatcher.queue
            unsent = any(getattr(channel, "total_outbufs_len", 0) for channel in list(self.server._map.values()))
            if not busy and not unsent:
                break
            time.sleep(0.02)
        self.stop()


def serve_processes(settings: Settings, *, host: str = "0.0.0.0", port: int = 3000, workers: int = 2, threads: int = 16) -> None:
    """Several worker processes (gunicorn, threaded workers), each with its own app and database engine.

    One Python process uses one core for the ack path; on a host with more, this is how one `serve`
    uses them. Migrations run once here, before the workers start."""
    from gunicorn.app.base import BaseApplication

    from storage.db import make_engine
    from storage.migrate import upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()

    class Workers(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "timeout": 60,
                "keepalive": 5,
                "graceful_timeout": 10,
                "child_exit": _worker_exited,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
            from bot.app import build_app  # in each worker, after the fork: no shared connections
            from bot.runtime import freeze_startup_heap

            application = wsgi_app(build_app(settings))
            freeze_startup_heap()
            return application

    _share_metrics()
    log.info("serving with %s worker processes × %s threads on %s:%s%s", workers, threads, host, port, EVENTS_PATH)
    Workers().run()


def _share_metrics() -> None:
    """prometheus_client's multi-process mode: each worker writes its samples under PROMETHEUS_MULTIPROC_DIR
    (a fresh temporary directory unless one is given), and `/metrics` in any worker adds them all up."""
    import os
    import tempfile

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="mktbot-metrics-")


def _worker_exited(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
