"""The command line: fast help, clear messages about credentials, migrations on demand."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=60,
        env={**clean, **(env or {}), "PYTHONPATH": str(ROOT)}, cwd=cwd or ROOT,
    )


def test_help_does_not_import_the_heavy_libraries() -> None:
    code = "import sys, bot.cli; bot.cli.build_parser(); print(sorted(m for m in ('pandas', 'matplotlib', 'slack_bolt') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stderr
    result = run("--help")
    assert result.returncode == 0 and "playground" in result.stdout and "scheduler" in result.stdout


def test_partial_credentials_say_what_is_missing(tmp_path: Path) -> None:
    result = run("run", env={"SLACK_BOT_TOKEN": "xoxb-1"}, cwd=tmp_path)
    assert result.returncode == 2 and "Missing SLACK_SIGNING_SECRET" in result.stderr
    result = run("serve", cwd=tmp_path)
    assert result.returncode == 2 and "SLACK_BOT_TOKEN" in result.stderr


def test_db_upgrade(tmp_path: Path) -> None:
    result = run("db", "upgrade", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, cwd=tmp_path)
    assert result.returncode == 0 and "revision" in result.stdout


def test_bad_timezone_is_explained(tmp_path: Path) -> None:
    result = run("db", "upgrade", env={"MKTBOT_TIMEZONE": "Mars/Olympus", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, cwd=tmp_path)
    assert result.returncode != 0 and "IANA" in result.stderr
