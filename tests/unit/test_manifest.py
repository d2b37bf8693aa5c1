"""The app manifest: valid against Slack's schema, and in step with what the code registers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.ids import CallbackId
from commands import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "tests" / "slack"
MANIFEST: dict[str, Any] = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))


def schema_validator() -> Any:
    import jsonschema

    path = SHARED / "manifest.schema.1.0.0.json"
    return jsonschema.Draft7Validator(json.loads(path.read_text(encoding="utf-8")))


def test_manifest_is_valid_against_slacks_schema() -> None:
    errors = [e.message for e in schema_validator().iter_errors(MANIFEST)]
    assert errors == []


def test_the_validator_is_wired_up() -> None:
    """Slack's own examples: the valid one passes, the invalid one fails with exactly one error."""
    validator = schema_validator()
    examples = SHARED / "manifest-examples" / "v1"
    assert list(validator.iter_errors(json.loads((examples / "manifest.valid.json").read_text()))) == []
    assert len(list(validator.iter_errors(json.loads((examples / "manifest.invalid.json").read_text())))) == 1


def test_every_command_is_declared_and_escaped() -> None:
    declared = {c["command"]: c for c in MANIFEST["features"]["slash_commands"]}
    assert set(declared) == set(COMMANDS)
    for command in declared.values():
        assert command["should_escape"] is True  # mentions arrive as <@U…|name>, never as bare names
        assert command["url"].endswith("/slack/events")
        assert 2 <= len(command["command"]) <= 32 and command["description"]


def test_shortcuts_match_the_callback_ids_the_code_handles() -> None:
    shortcuts = {s["callback_id"]: s for s in MANIFEST["features"]["shortcuts"]}
    assert set(shortcuts) == {CallbackId.TASK_FROM_MESSAGE, CallbackId.FEEDBACK_FROM_MESSAGE}
    assert all(s["type"] == "message" for s in shortcuts.values())


def test_events_interactivity_and_least_privilege_scopes() -> None:
    settings = MANIFEST["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened", "message.channels", "message.groups", "message.im", "file_shared",
    }
    assert settings["interactivity"]["is_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert scopes == {
        "commands", "chat:write", "chat:write.public", "users:read", "team:read", "channels:history", "groups:history",
        "im:history", "im:write", "files:write", "files:read",
    }
    assert 1 <= len(MANIFEST["display_information"]["name"]) <= 35
    assert MANIFEST["features"]["bot_user"]["display_name"]
