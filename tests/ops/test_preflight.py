"""Start-up checks: auth.test before serving (retried when Slack stumbles), and `mktbot check`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.localslack import LocalSlack
from bot.preflight import MANIFEST, StartupError, auth_test
from bot.settings import Settings

MANIFEST_SCOPES = ",".join(json.loads(MANIFEST.read_text(encoding="utf-8"))["oauth_config"]["scopes"]["bot"])


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    with LocalSlack(team_id="T0CHECK", scopes=MANIFEST_SCOPES) as server:
        yield server


@pytest.fixture
def env(slack: LocalSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    values = {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": slack.signing_secret,
              "SLACK_API_URL": slack.api_url, "DATABASE_URL": f"sqlite:///{tmp_path / 'mktbot.db'}"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def settings_for(slack: LocalSlack, token: str | None = None) -> Settings:
    return Settings(bot_token=token or slack.bot_token, signing_secret="x", api_url=slack.api_url)


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive", "not_authed"])
def test_run_stops_on_a_rejected_token_saying_what_to_copy_from_where(
    slack: LocalSlack, env: dict[str, str], error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    slack.add_response("auth.test", body={"ok": False, "error": error})
    assert main(["run", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert f"Slack rejected SLACK_BOT_TOKEN ({error})" in err
    assert "OAuth & Permissions → Bot User OAuth Token" in err
    assert slack.bot_token not in err
    assert [c.method for c in slack.calls] == ["auth.test"]  # nothing else was tried


def test_serve_stops_on_a_wrong_token(slack: LocalSlack, env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-not-this-one")
    assert main(["serve", "--port", "0"]) == 1
    assert "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in capsys.readouterr().err


def test_auth_test_is_retried_through_5xx_and_429(slack: LocalSlack) -> None:
    slack.add_response("auth.test", status=503, times=1)
    slack.add_response("auth.test", status=429, headers={"Retry-After": "0"})
    identity = auth_test(settings_for(slack))
    assert identity.team_id == "T0CHECK" and identity.user_id == slack.bot_user_id
    assert identity.scopes == frozenset(MANIFEST_SCOPES.split(","))
    assert [c.method for c in slack.calls] == ["auth.test"] * 3


def test_an_unreachable_slack_is_named() -> None:
    with pytest.raises(StartupError) as raised:
        auth_test(Settings(bot_token="xoxb-x", api_url="http://127.0.0.1:9/api/"))
    assert "Could not reach Slack at http://127.0.0.1:9/api/" in str(raised.value.code)


def test_check_passes_when_everything_is_ready(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main
    from storage.db import open_database

    open_database(env["DATABASE_URL"]).dispose()  # migrated to head
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    for name in ("token", "scopes", "database", "migrations"):
        assert f"ok    {name}:" in out
    assert "Everything is ready." in out


def test_check_lists_each_problem(slack: LocalSlack, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    slack.scopes = "commands,chat:write"
    assert main(["check"]) == 1  # the database file exists now but was never migrated
    out = capsys.readouterr().out
    assert "FAIL  scopes: missing channels:history, chat:write.public" in out
    assert "then reinstall the app" in out
    assert "FAIL  migrations: at none" in out and "mktbot db upgrade" in out
    assert "2 problem(s) found." in out


def test_check_reports_a_rejected_token_and_an_unreachable_database(
    slack: LocalSlack, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    slack.add_response("auth.test", body={"ok": False, "error": "token_revoked"})
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  token: Slack rejected SLACK_BOT_TOKEN (token_revoked)" in out
    assert "FAIL  database: postgresql+psycopg://nobody@127.0.0.1:9/none is not reachable" in out
