"""The HTTP layer: routing, request body parsing and responses.

`POST /api/<method>`, `POST /upload/<file_id>`, `POST /response/<id>`, `GET /files/<file_id>[/<name>]`,
`GET /link/?ticket=…` (Socket Mode's WebSocket, from apps.connections.open),
`/playground/...` (the browser page's JSON API, when `LocalSlack.playground` is set); everything else
under `/` goes to `Handler.serve_static` (the playground's static files are served from `static_dir`).
Everything is stdlib: `http.server.ThreadingHTTPServer` on a daemon thread.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import logging
import mimetypes
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast

from bot.localslack.records import JSONDict, SlackError

if TYPE_CHECKING:
    from bot.localslack.slack import LocalSlack

log = logging.getLogger(__name__)


def decode_form(raw: bytes) -> JSONDict:
    pairs = urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
    return dict(pairs)


def decode_multipart(raw: bytes, content_type: str) -> tuple[JSONDict, dict[str, tuple[str | None, bytes]]]:
    """Return (text fields, file parts {name: (filename, bytes)})."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    fields: JSONDict = {}
    files: dict[str, tuple[str | None, bytes]] = {}
    if not msg.is_multipart():
        return fields, files
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, data)
        else:
            fields[name] = data.decode(part.get_content_charset() or "utf-8")
    return fields, files


def decode_body(raw: bytes, content_type: str) -> JSONDict:
    """Decode a Web API request body. JSON-encoded form fields (blocks, metadata) stay strings."""
    ctype = content_type.split(";")[0].strip().lower()
    if not raw:
        return {}
    if ctype == "application/json":
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SlackError("invalid_json") from exc
        if not isinstance(value, dict):
            raise SlackError("json_not_object")
        return value
    if ctype == "multipart/form-data":
        fields, files = decode_multipart(raw, content_type)
        args: JSONDict = dict(fields)
        for name, (_filename, data) in files.items():
            args[name] = data
        return args
    try:
        return decode_form(raw)
    except UnicodeDecodeError as exc:
        raise SlackError("invalid_charset") from exc


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    slack: LocalSlack


class Handler(BaseHTTPRequestHandler):
    server_version = "LocalSlack/1.0"
    protocol_version = "HTTP/1.1"

    @property
    def slack(self) -> LocalSlack:
        return cast(Server, self.server).slack

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - " + format, self.address_string(), *args)

    # ---- plumbing --------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: int, payload: JSONDict, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8", headers)

    def _send_text(self, status: int, text: str) -> None:
        self._send(status, text.encode(), "text/plain; charset=utf-8")

    # ---- routes ----------------------------------------------------------------------------------

    def do_POST(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        raw = self._read_body()
        if path.startswith("/playground/") and self.slack.playground is not None:
            self._playground(path, raw)
        elif path.startswith("/api/"):
            self._api(path[len("/api/") :], raw)
        elif path.startswith("/upload/"):
            status, text = self.slack.handle_upload(
                path[len("/upload/") :], raw, self.headers.get("Content-Type", "")
            )
            self._send_text(status, text)
        elif path.startswith("/response/"):
            status, text = self.slack.handle_response_url(
                path[len("/response/") :], raw, self.headers.get("Content-Type", "")
            )
            self._send_text(status, text)
        else:
            self._send_text(404, "not_found")

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/playground/") and self.slack.playground is not None:
            self._playground(path, b"")
        elif path.startswith("/api/"):
            self._api(path[len("/api/") :], b"")
        elif path.startswith("/files/"):
            self._file(path[len("/files/") :])
        elif path.rstrip("/") == "/link" and self.command == "GET":
            self.slack.accept_socket(self)  # Socket Mode's WebSocket (bot.localslack.socket_mode)
        else:
            self.serve_static(path)

    do_HEAD = do_GET

    def _api(self, method: str, raw: bytes) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query, keep_blank_values=True))
        headers = dict(self.headers.items())
        decode_error: SlackError | None = None
        try:
            body = decode_body(raw, self.headers.get("Content-Type", ""))
        except SlackError as err:
            body, decode_error = {}, err
        args: JSONDict = {**query, **body}
        status, payload, extra, delay = self.slack.handle_api(
            method, args, headers, decode_error=decode_error
        )
        if status == 0:
            self.close_connection = True
            return  # the call was done; its answer is lost
        if delay > 0 and self.slack.stopping.wait(delay):
            self.close_connection = True
            return  # the server is stopping: drop the connection without an answer
        self._send_json(status, payload, extra)

    def _playground(self, path: str, raw: bytes) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query, keep_blank_values=True))
        status, body, content_type, headers = self.slack.playground.handle(
            self.command, path, query, raw, self.headers.get("Content-Type", "")
        )
        self._send(status, body, content_type, headers)

    def _file(self, rest: str) -> None:
        file_id, _, tail = rest.partition("/")
        if tail.startswith("download/"):
            status, body, ctype = self.slack.download(file_id, dict(self.headers.items()))
            self._send(status, body, ctype)
            return
        data = self.slack.file_bytes(file_id)
        if data is None:
            self._send_text(404, "file_not_found")
            return
        f = self.slack.files[file_id]
        self._send(200, data, f.mimetype)

    def serve_static(self, path: str) -> None:
        """Everything else under `/`: the playground's page and assets, from `static_dir`."""
        root = self.slack.static_dir
        if root is None:
            if path == "/":
                self._send_text(
                    200, f"LocalSlack for {self.slack.team_name}: Web API at {self.slack.api_url}"
                )
            else:
                self._send_text(404, "not_found")
            return
        relative = urllib.parse.unquote(path).lstrip("/") or "index.html"
        target = (root / relative).resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            self._send_text(404, "not_found")
            return
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype.endswith(("javascript", "json")):
            ctype += "; charset=utf-8"
        self._send(200, target.read_bytes(), ctype, {"Cache-Control": "no-cache"})
