"""The WSGI application behind /api/v1: bearer-token auth, body limits and JSON errors."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bot.api import kpis
from bot.api.openapi import DOCUMENT, MAX_BODY_BYTES
from bot.services import api_tokens
from storage.db import Database

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
KPIS_PATH = f"{PREFIX}/kpis"
OPENAPI_PATH = f"{PREFIX}/openapi.json"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_STATUS = {200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized", 404: "404 Not Found",
           405: "405 Method Not Allowed", 413: "413 Request Entity Too Large", 415: "415 Unsupported Media Type",
           422: "422 Unprocessable Entity"}


def routes(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def _json(start_response: Callable[..., Any], status: int, body: Any, headers: Sequence[tuple[str, str]] = ()) -> list[bytes]:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    start_response(_STATUS[status], [("Content-Type", "application/json; charset=utf-8"),
                                     ("Content-Length", str(len(data))), *headers])
    return [data]


def _error(start_response: Callable[..., Any], status: int, text: str, headers: Sequence[tuple[str, str]] = ()) -> list[bytes]:
    return _json(start_response, status, {"error": text}, headers)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def make_api(db: Database) -> WSGIApp:
    document = json.dumps(DOCUMENT, ensure_ascii=False).encode("utf-8")

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or ""
        method = environ.get("REQUEST_METHOD") or "GET"
        if path == OPENAPI_PATH:
            if method not in ("GET", "HEAD"):
                return _error(start_response, 405, "use GET", [("Allow", "GET, HEAD")])
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(document)))])
            return [document] if method == "GET" else []
        if path != KPIS_PATH:
            return _error(start_response, 404, f"no such endpoint: {path} (see {OPENAPI_PATH})")
        if method != "POST":
            return _error(start_response, 405, "use POST", [("Allow", "POST")])
        return post_kpis(db, environ, start_response)

    return application


def post_kpis(db: Database, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    challenge = [("WWW-Authenticate", 'Bearer realm="mktbot"')]
    scheme, _, secret = (environ.get("HTTP_AUTHORIZATION") or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return _error(start_response, 401, "send Authorization: Bearer <token> (mktbot api-token new)", challenge)
    with db.session(write=False) as session:
        token = api_tokens.authenticate(session, secret=secret.strip())
    if token is None:
        return _error(start_response, 401, "unknown or revoked token", challenge)
    token_id, workspace_id = token
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(start_response, 400, "invalid Content-Length")
    if length > MAX_BODY_BYTES:
        return _error(start_response, 413, f"the body is larger than {MAX_BODY_BYTES:,} bytes: send smaller batches")
    content_type = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return _error(start_response, 415, "send Content-Type: application/json")
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    try:
        payload = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _error(start_response, 400, "the body is not JSON (UTF-8)")
    if not isinstance(payload, dict):
        return _error(start_response, 400, 'the body is a JSON object: {"items": [...]}')
    try:
        items, refusals = kpis.parse_batch(payload)
        with db.session(write=False) as session:
            refusals += kpis.check_metrics(session, workspace_id=workspace_id, items=items)
        if refusals:
            raise kpis.Refused(sorted(refusals, key=lambda r: -1 if r.item is None else r.item))
        with db.session() as session:
            result = kpis.write(session, workspace_id=workspace_id, items=items)
            api_tokens.mark_used(session, token_id=token_id)
    except kpis.Refused as refused:
        return _json(start_response, 422, {"error": "some items were refused; nothing was written",
                                           "errors": [r.as_json() for r in refused.refusals]})
    log.info("api: %s values for %s (%s new, %s replaced)", result.values, workspace_id, result.inserted,
             result.replaced)
    return _json(start_response, 200, result.as_json())
