"""`mktbot kpi import` and `mktbot api-token` against a real database file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.services import api_tokens
from storage.db import Database
from tests.imports.samples import stored, write_sycm


@pytest.fixture
def cli_db(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("DATABASE_URL", sqlite_db.engine.url.render_as_string(hide_password=False))
    return sqlite_db


def test_dry_run_then_import_then_again(cli_db: Database, workspace: str, tmp_path: Path, capsys) -> None:
    path = write_sycm(tmp_path)
    args = ["kpi", "import", str(path), "--workspace", workspace, "--channel", "天猫", "--preset", "sycm"]
    assert main([*args, "--dry-run"]) == 0
    out = capsys.readouterr()
    assert "values: 7 (7 new, 0 replace a stored value, 0 unchanged)" in out.out
    assert "skipped row 7: totals row" in out.out and "Dry run: nothing was written." in out.out
    assert stored(cli_db, workspace) == {}

    assert main(args) == 0
    out = capsys.readouterr()
    assert "Imported 7 values: 7 new, 0 replaced, 0 unchanged; new metrics: visits, gmv, orders." in out.out
    assert "checking" in out.err and "importing" in out.err, "progress bars on stderr"
    assert len(stored(cli_db, workspace)) == 7

    assert main(args) == 0
    assert "Nothing changed: all 7 values were already stored." in capsys.readouterr().out


def test_a_bad_file_is_refused_with_its_row_and_column(cli_db: Database, workspace: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("日期,访客数\n2026-11-01,12\n2026-11-02,很多\n", encoding="utf-8")
    assert main(["kpi", "import", str(path), "--workspace", workspace]) == 1
    err = capsys.readouterr().err
    assert "bad.csv: row 3, column '访客数': '很多' is not a number" in err and "Nothing was imported." in err
    assert stored(cli_db, workspace) == {}


def test_api_tokens_new_list_revoke(cli_db: Database, workspace: str, capsys) -> None:
    assert main(["api-token", "new", "--workspace", workspace, "--name", "nightly sync"]) == 0
    secret = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("mkt_"))
    with cli_db.session(write=False) as session:
        token_id, owner = api_tokens.authenticate(session, secret=secret) or (0, "")
    assert owner == workspace
    assert main(["api-token", "list", "--workspace", workspace]) == 0
    listed = capsys.readouterr().out
    assert "nightly sync" in listed and "active" in listed and secret not in listed and secret[:12] in listed
    assert main(["api-token", "revoke", str(token_id), "--workspace", workspace]) == 0
    assert "revoked" in capsys.readouterr().out
    with cli_db.session(write=False) as session:
        assert api_tokens.authenticate(session, secret=secret) is None
    assert main(["api-token", "revoke", str(token_id), "--workspace", "TOTHER"]) == 1
    assert "no API token" in capsys.readouterr().err
