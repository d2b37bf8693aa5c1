"""manifest.socket.json: the same app as manifest.json, for Socket Mode (no request URLs)."""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.unit.test_manifest import MANIFEST, ROOT, schema_validator

SOCKET: dict[str, Any] = json.loads((ROOT / "manifest.socket.json").read_text(encoding="utf-8"))


def test_socket_manifest_is_valid_against_slacks_schema() -> None:
    assert [e.message for e in schema_validator().iter_errors(SOCKET)] == []


def test_socket_manifest_is_the_http_one_without_request_urls() -> None:
    assert SOCKET["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in SOCKET["settings"]["event_subscriptions"]
    assert "request_url" not in SOCKET["settings"]["interactivity"]
    assert all("url" not in command for command in SOCKET["features"]["slash_commands"])
    expected = copy.deepcopy(MANIFEST)
    for command in expected["features"]["slash_commands"]:
        del command["url"]
    del expected["settings"]["event_subscriptions"]["request_url"]
    del expected["settings"]["interactivity"]["request_url"]
    expected["settings"]["socket_mode_enabled"] = True
    assert expected == SOCKET, "manifest.socket.json and manifest.json have drifted apart"
