"""The entry points import cleanly in a fresh interpreter (as `mktbot run` / `mktbot serve` do)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["bot.app", "commands"])
def test_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"`import {module}` fails on its own:\n{result.stderr[-1500:]}"
