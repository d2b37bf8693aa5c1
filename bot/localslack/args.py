"""Web API arguments as the methods read them: flags, timestamps, required fields, JSON-typed fields,
integers and pagination cursors.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.localslack.records import JSONDict, SlackError


def truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def ts_key(ts: str | None) -> Decimal:
    if ts is None or ts == "":
        raise InvalidOperation("empty ts")
    return Decimal(str(ts))


def str_arg(args: JSONDict, name: str) -> str | None:
    value = args.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def require(args: JSONDict, *names: str) -> None:
    missing = [n for n in names if args.get(n) in (None, "")]
    if missing:
        raise SlackError(
            "invalid_arguments", messages=[f"[ERROR] missing required field: {n}" for n in missing]
        )


def json_arg(args: JSONDict, name: str, *, error: str = "invalid_arguments") -> Any:
    """A JSON-typed argument: already decoded in JSON bodies, a JSON string in form bodies."""
    value = args.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise SlackError(error, messages=[f"[ERROR] {name} is not valid JSON"]) from exc
    return value


def int_arg(args: JSONDict, name: str, default: int) -> int:
    value = args.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise SlackError("invalid_arguments", messages=[f"[ERROR] {name} must be an integer"]) from exc


def encode_cursor(kind: str, offset: int) -> str:
    return base64.b64encode(f"{kind}:{offset}".encode()).decode()


def decode_cursor(kind: str, cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        prefix, _, number = base64.b64decode(cursor.encode()).decode().partition(":")
        if prefix != kind:
            raise ValueError(prefix)
        return int(number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SlackError("invalid_cursor") from exc
