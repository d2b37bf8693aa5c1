"""A serving process freezes its startup heap and collects young objects in larger steps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import bot.runtime
import bot.server

ROOT = Path(__file__).resolve().parents[2]


def test_freeze_startup_heap_freezes_what_is_loaded_and_raises_the_young_threshold() -> None:
    # in a process of its own: freezing is for good, and the test process must keep its defaults
    probe = (
        "import gc; import bot.app; before = gc.get_threshold()\n"
        "from bot.runtime import freeze_startup_heap, YOUNG_GENERATION_THRESHOLD\n"
        "freeze_startup_heap()\n"
        "after = gc.get_threshold()\n"
        "assert gc.get_freeze_count() > 50_000, gc.get_freeze_count()\n"
        "assert after == (YOUNG_GENERATION_THRESHOLD, before[1], before[2]), (before, after)\n"
        "assert gc.isenabled()\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_serve_freezes_the_heap_once_the_app_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    class Server:
        effective_port = 3000

        def run(self) -> None:
            calls.append("run")

    def make_server(app: Any, **_: Any) -> Server:
        calls.append("made")
        return Server()

    monkeypatch.setattr(bot.server, "make_server", make_server)
    monkeypatch.setattr(bot.runtime, "freeze_startup_heap", lambda: calls.append("frozen"))
    bot.server.serve(object())  # type: ignore[arg-type]
    assert calls == ["made", "frozen", "run"]
