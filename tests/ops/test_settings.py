"""Settings: every bad value at once, the fix in the message, no secret echoed, `.env` comments dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigError, Settings, default_data_dir


def test_a_dotenv_comment_after_a_value_is_not_part_of_the_value(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "SLACK_BOT_TOKEN=xoxb-1  # bot token\n"
        'SLACK_SIGNING_SECRET="s3cret # not a comment"  # quoted\n'
        "export MKTBOT_TIMEZONE=Asia/Shanghai # where the team works\n"
        "# DATABASE_URL=sqlite:///elsewhere.db\n",
        encoding="utf-8",
    )
    settings = Settings.from_env(env={}, dotenv=env)
    assert settings.bot_token == "xoxb-1"
    assert settings.signing_secret == "s3cret # not a comment"
    assert settings.timezone == "Asia/Shanghai"
    assert settings.database_url.endswith("/mktbot.db")


def test_the_environment_wins_over_the_dotenv_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("MKTBOT_TIMEZONE=Asia/Shanghai\n", encoding="utf-8")
    assert Settings.from_env(env={"MKTBOT_TIMEZONE": "Europe/Berlin"}, dotenv=env).timezone == "Europe/Berlin"


def test_every_bad_value_is_reported_at_once_and_no_secret_is_echoed() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env={
            "SLACK_BOT_TOKEN": "xapp-1-A0-secretvalue",
            "SLACK_APP_TOKEN": "xoxb-another-secretvalue",
            "MKTBOT_TIMEZONE": "Mars/Olympus",
            "MKTBOT_LISTENER_THREADS": "lots",
            "MKTBOT_LOG_FORMAT": "xml",
            "SLACK_API_URL": "slack.com/api",
        }, dotenv=None)
    message = str(raised.value.code)
    assert len(raised.value.problems) == 6
    assert "secretvalue" not in message
    assert "SLACK_BOT_TOKEN: this is an app-level token (xapp-…), which belongs in SLACK_APP_TOKEN" in message
    assert "OAuth & Permissions → Bot User OAuth Token" in message
    assert "SLACK_APP_TOKEN: this is the bot token (xoxb-…), which belongs in SLACK_BOT_TOKEN" in message
    assert "MKTBOT_TIMEZONE='Mars/Olympus': not an IANA time zone" in message
    assert "MKTBOT_LISTENER_THREADS='lots'" in message
    assert "MKTBOT_LOG_FORMAT='xml'" in message
    assert "SLACK_API_URL='slack.com/api'" in message


def test_the_cli_prints_the_problems_and_exits_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-user-secretvalue")
    monkeypatch.setenv("MKTBOT_TIMEZONE", "Nowhere/City")
    assert main(["check"]) == 1
    err = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN: this is a user token" in err and "MKTBOT_TIMEZONE='Nowhere/City'" in err
    assert "secretvalue" not in err


def test_secrets_stay_out_of_the_repr() -> None:
    settings = Settings(bot_token="xoxb-hidden", signing_secret="hidden-secret", app_token="xapp-hidden")
    assert "hidden" not in repr(settings) and "hidden" not in str(settings)


def test_the_default_database_lives_in_the_data_directory_not_the_working_directory(tmp_path: Path) -> None:
    assert default_data_dir({"XDG_DATA_HOME": str(tmp_path / "xdg")}) == tmp_path / "xdg" / "mktbot"
    assert default_data_dir({"MKTBOT_DATA_DIR": str(tmp_path / "d"), "XDG_DATA_HOME": "/x"}) == tmp_path / "d"
    assert default_data_dir({"HOME": "/h"}).name == "mktbot"
    settings = Settings.from_env(env={"MKTBOT_DATA_DIR": str(tmp_path / "data")}, dotenv=None)
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'mktbot.db'}"
    settings.ensure_data_dir()
    assert (tmp_path / "data").is_dir()
    explicit = Settings.from_env(env={"MKTBOT_DATA_DIR": str(tmp_path / "unused"),
                                      "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, dotenv=None)
    explicit.ensure_data_dir()
    assert not (tmp_path / "unused").exists()


def test_settings_built_in_code_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-from-the-environment")
    monkeypatch.setenv("MKTBOT_TIMEZONE", "Asia/Shanghai")
    built = Settings(bot_token="xoxb-1", signing_secret="s")
    assert built.app_token is None and built.timezone == "UTC"
    assert Settings.from_env(dotenv=None).app_token == "xapp-from-the-environment"
