"""Check Web API calls against Slack's own OpenAPI spec (slackapi/slack-api-specs, 2020).

Only two things are checked, because the spec is stale in other respects (see shared/slack/README.md):
the method exists, and every parameter the spec marks required (except `token`, which slack_sdk
sends as a header) is present. The two-step upload methods the spec lacks are checked against
their documented required arguments.

The spec is Slack's published file, vendored under `tests/slack/`; `$MKTBOT_SLACK_SPECS` (a directory or
the JSON file itself) points elsewhere, e.g. at a newer copy.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.localslack import LocalSlack

SPEC_FILENAME = "slack_web_openapi_v2_without_examples.json"
REPO_ROOT = Path(__file__).resolve().parents[2]

#: Methods newer than the spec, with their documented required arguments.
EXTRA_METHODS: dict[str, frozenset[str]] = {
    "files.getUploadURLExternal": frozenset({"filename", "length"}),
    "files.completeUploadExternal": frozenset({"files"}),
}

IGNORED_PARAMS = frozenset({"token"})


def _locate_spec() -> Path | None:
    env = os.environ.get("MKTBOT_SLACK_SPECS")
    candidates: list[Path] = []
    if env:
        p = Path(env)
        candidates.append(p if p.suffix == ".json" else p / SPEC_FILENAME)
    candidates.append(REPO_ROOT / "tests" / "slack" / SPEC_FILENAME)
    return next((c for c in candidates if c.is_file()), None)


SPEC_PATH: Path | None = _locate_spec()


@cache
def _methods() -> dict[str, frozenset[str]]:
    """method name -> required parameter names (without token), from the spec plus EXTRA_METHODS."""
    if SPEC_PATH is None:
        raise RuntimeError("Slack's OpenAPI spec is not available (set MKTBOT_SLACK_SPECS)")
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    methods: dict[str, frozenset[str]] = {}
    for path, operations in spec["paths"].items():
        required: set[str] = set()
        for op in operations.values():
            if not isinstance(op, dict):
                continue
            for param in op.get("parameters", []):
                if param.get("required") and param.get("name") not in IGNORED_PARAMS:
                    required.add(param["name"])
        methods[path.lstrip("/")] = frozenset(required)
    methods.update(EXTRA_METHODS)
    return methods


def known_methods() -> frozenset[str]:
    return frozenset(_methods())


def required_params(method: str) -> frozenset[str]:
    methods = _methods()
    if method not in methods:
        raise AssertionError(f"{method!r} is not a Slack Web API method (not in {SPEC_FILENAME})")
    return methods[method]


def _missing(value: Any) -> bool:
    return value is None or value == ""


def check_call(method: str, args: dict[str, Any]) -> None:
    """Raise AssertionError if `method` is unknown to Slack or a required argument is missing.

    `args` are decoded as the server records them: JSON bodies as objects, form bodies as strings."""
    required = required_params(method)
    missing = sorted(name for name in required if _missing(args.get(name)))
    if missing:
        raise AssertionError(f"{method} is missing required argument(s) {missing}; got {sorted(args)}")


def assert_calls_conform(server: LocalSlack) -> None:
    """Check every Web API call the server recorded; report all problems at once."""
    problems: list[str] = []
    for i, call in enumerate(list(server.calls)):
        try:
            check_call(call.method, call.args)
        except AssertionError as exc:
            problems.append(f"call #{i}: {exc}")
    if problems:
        raise AssertionError("Web API calls that do not conform to Slack's spec:\n" + "\n".join(problems))
