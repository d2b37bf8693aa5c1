"""Socket Mode: `apps.connections.open` (app-level token only) and the WebSocket it hands out.

Slack's protocol, as its docs describe it: on connecting, the app receives
`{"type": "hello", "num_connections": 1, "connection_info": {"app_id": …}, "debug_info": {…}}`; then each
request arrives as an envelope `{"envelope_id", "type": "slash_commands" | "interactive" | "events_api",
"payload", "accepts_response_payload"}` (events also carry `retry_attempt` and `retry_reason`), and the app
acknowledges it with `{"envelope_id": …, "payload": {…}}` (the payload is what an HTTP response body would
be: a command's reply, a view submission's response_action). A `disconnect` message asks the app to
reconnect. The WebSocket (RFC 6455) is served by the same stdlib HTTP server: text frames, ping/pong and
close, unmasked from the server and masked from the client.

With `LocalSlack.socket_mode = True` the drivers (send_command, click_button, submit_view, send_event, …)
send their requests over a connected socket instead of HTTP; the ack's payload is the answer.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import struct
import threading
import time
import urllib.parse
import uuid
from typing import IO, TYPE_CHECKING, Any

from bot.localslack.records import HTTPResult, JSONDict, SlackError
from bot.localslack.workspace import Workspace

if TYPE_CHECKING:
    from bot.localslack.httpd import Handler

log = logging.getLogger(__name__)

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0
ENVELOPE_TYPES = {"command": "slash_commands", "interaction": "interactive", "event": "events_api"}


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()


def encode_frame(opcode: int, data: bytes) -> bytes:
    """A server frame: final, unmasked."""
    head = bytes([0x80 | opcode])
    n = len(data)
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + data


def read_frame(stream: IO[bytes] | Any) -> tuple[int, bytes] | None:
    """One message (continuation frames joined): (opcode, payload), or None when the peer is gone."""
    opcode: int | None = None
    parts: list[bytes] = []
    while True:
        head = stream.read(2)
        if len(head) < 2:
            return None
        fin, op, masked, n = head[0] & 0x80, head[0] & 0x0F, head[1] & 0x80, head[1] & 0x7F
        if n == 126:
            n = struct.unpack("!H", stream.read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", stream.read(8))[0]
        mask = stream.read(4) if masked else b""
        data = stream.read(n)
        if len(data) < n:
            return None
        if mask:
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        if op >= 0x8:  # control frames may come between fragments
            return op, data
        if op != CONTINUATION:
            opcode = op
        parts.append(data)
        if fin:
            return (opcode if opcode is not None else TEXT), b"".join(parts)


class SocketConnection:
    """One connected app: frames out (under a lock), acks in (read on the HTTP handler's thread)."""

    def __init__(self, handler: Handler, ticket: str) -> None:
        self.handler = handler
        self.ticket = ticket
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.received: list[JSONDict] = []  # every JSON message the app sent (acks)

    def send_json(self, message: JSONDict) -> None:
        self.send(TEXT, json.dumps(message).encode())

    def send(self, opcode: int, data: bytes) -> None:
        with self.lock:
            if self.closed.is_set():
                raise OSError("socket closed")
            self.handler.wfile.write(encode_frame(opcode, data))
            self.handler.wfile.flush()

    def close(self, code: int = 1000) -> None:
        if self.closed.is_set():
            return
        with contextlib.suppress(OSError):
            self.send(CLOSE, struct.pack("!H", code))
        self.closed.set()
        with contextlib.suppress(OSError):
            self.handler.connection.shutdown(2)  # wakes the reading thread


class SocketModeAPI(Workspace):
    """apps.connections.open, the WebSocket, and delivery of envelopes over it."""

    # ---- the Web API method --------------------------------------------------------------------------

    def _api_apps_connections_open(self, args: JSONDict) -> JSONDict:
        ticket = uuid.uuid4().hex
        with self._lock:
            self._socket_tickets.add(ticket)
        query = urllib.parse.urlencode({"ticket": ticket, "app_id": self.app_id})
        return {"url": f"ws://{self.host}:{self.port}/link/?{query}"}

    # ---- the WebSocket --------------------------------------------------------------------------------

    @property
    def socket_connections(self) -> list[SocketConnection]:
        with self._lock:
            return [c for c in self._sockets if not c.closed.is_set()]

    def wait_for_socket(self, timeout: float = 10.0) -> SocketConnection:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self.socket_connections:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("no Socket Mode client connected")
                self._changed.wait(remaining)
            return self.socket_connections[-1]

    def accept_socket(self, handler: Handler) -> None:
        """GET /link/?ticket=…: the WebSocket handshake, `hello`, then read until the app goes."""
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(handler.path).query))
        ticket = query.get("ticket", "")
        key = handler.headers.get("Sec-WebSocket-Key")
        with self._lock:
            valid = ticket in self._socket_tickets
            self._socket_tickets.discard(ticket)  # a ticket opens one connection
        if not valid or not key or (handler.headers.get("Upgrade") or "").lower() != "websocket":
            handler.close_connection = True
            handler._send_text(401 if not valid else 400, "invalid_ticket" if not valid else "not a websocket upgrade")
            return
        handler.send_response(101, "Switching Protocols")
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept_key(key))
        handler.end_headers()
        handler.wfile.flush()
        handler.close_connection = True
        conn = SocketConnection(handler, ticket)
        with self._lock:
            self._sockets.append(conn)
            self._changed.notify_all()
        try:
            conn.send_json({
                "type": "hello", "num_connections": len(self.socket_connections),
                "debug_info": {"host": f"localslack-{self.port}", "build_number": 1, "approximate_connection_time": 3600},
                "connection_info": {"app_id": self.app_id},
            })
            self._read_socket(conn)
        except OSError:
            pass
        finally:
            conn.closed.set()
            with self._lock:
                self._changed.notify_all()

    def _read_socket(self, conn: SocketConnection) -> None:
        while not conn.closed.is_set():
            frame = read_frame(conn.handler.rfile)
            if frame is None:
                return
            opcode, data = frame
            if opcode == PING:
                conn.send(PONG, data)
            elif opcode == CLOSE:
                conn.close()
                return
            elif opcode == TEXT:
                try:
                    message = json.loads(data.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    log.warning("Socket Mode: the app sent something that is not JSON: %r", data[:200])
                    continue
                if not isinstance(message, dict):
                    continue
                with self._lock:
                    conn.received.append(message)
                    envelope_id = message.get("envelope_id")
                    if isinstance(envelope_id, str):
                        self._socket_acks[envelope_id] = message
                    self._changed.notify_all()

    def disconnect_sockets(self, reason: str = "refresh_requested") -> None:
        """Slack's `disconnect` message (the app should reconnect), then close."""
        for conn in self.socket_connections:
            with contextlib.suppress(OSError):
                conn.send_json({"type": "disconnect", "reason": reason,
                                "debug_info": {"host": f"localslack-{self.port}"}})
            conn.close()

    def close_sockets(self) -> None:
        for conn in self.socket_connections:
            conn.close(1001)

    # ---- delivery --------------------------------------------------------------------------------------

    def envelope(self, kind: str, body: bytes, extra_headers: dict[str, str] | None = None) -> JSONDict:
        """What Slack sends over the socket for a request it would otherwise POST."""
        envelope_type = ENVELOPE_TYPES[kind]
        payload: Any
        if kind == "command":
            payload = dict(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        elif kind == "interaction":
            form = dict(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            payload = json.loads(form["payload"])
        else:
            payload = json.loads(body)
        accepts = kind == "command" or (
            kind == "interaction" and payload.get("type") in ("view_submission", "block_suggestion", "shortcut",
                                                              "message_action"))
        out: JSONDict = {
            "envelope_id": str(uuid.uuid4()), "type": envelope_type, "payload": payload,
            "accepts_response_payload": accepts,
        }
        if kind == "event":
            retry = int((extra_headers or {}).get("X-Slack-Retry-Num") or 0)
            out["retry_attempt"] = retry
            out["retry_reason"] = (extra_headers or {}).get("X-Slack-Retry-Reason", "") if retry else ""
        return out

    def _deliver_over_socket(self, kind: str, body: bytes, extra_headers: dict[str, str] | None) -> HTTPResult:
        """Send the envelope to the newest connection and wait for its ack (up to delivery_timeout)."""
        if kind not in ENVELOPE_TYPES:
            raise SlackError("not_supported_over_socket_mode")
        envelope = self.envelope(kind, body, extra_headers)
        envelope_id = envelope["envelope_id"]
        started = time.monotonic()
        connections = self.socket_connections
        if not connections:
            detail = {"error": "dispatch_failed", "detail": "no Socket Mode connection"}
            return HTTPResult(status=0, body=detail, headers={}, elapsed=0.0, late=False)
        try:
            connections[-1].send_json(envelope)
        except OSError as exc:
            return HTTPResult(status=0, body={"error": "dispatch_failed", "detail": str(exc)}, headers={},
                              elapsed=0.0, late=False)
        deadline = started + self.delivery_timeout
        with self._lock:
            acks = self._socket_acks
            while envelope_id not in acks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            ack = acks.pop(envelope_id, None)
        elapsed = time.monotonic() - started
        if ack is None:
            return HTTPResult(status=0, body={"error": "no_ack", "envelope_id": envelope_id}, headers={},
                              elapsed=elapsed, late=True)
        payload = ack.get("payload")
        return HTTPResult(status=200, body=payload if payload is not None else "", headers={}, elapsed=elapsed,
                          late=elapsed > self.ack_timeout)
