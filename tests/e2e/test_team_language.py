"""`/mkt language`: the team's post language, per workspace and per channel."""

from __future__ import annotations

from bot.i18n import EN, ZH_CN
from bot.services import languages
from tests.support.harness import ANA, MARKETING, Bot


def test_the_team_language_is_set_per_workspace_and_per_channel(bot: Bot) -> None:
    said = bot.say(ANA, "/mkt language zh-CN")
    assert "Chinese" in said, said
    said = bot.say(ANA, f"/mkt language <#{MARKETING}|marketing> en")
    assert "English" in said, said
    with bot.db.session(write=False) as s:
        assert languages.team_language(s, workspace_id=bot.team_id, channel="C0OTHER") == ZH_CN
        assert languages.team_language(s, workspace_id=bot.team_id, channel=MARKETING) == EN
    listed = bot.say(ANA, "/mkt language")
    assert "Chinese" in listed and f"<#{MARKETING}>" in listed, listed
    bot.say(ANA, "/mkt language auto")
    with bot.db.session(write=False) as s:
        assert languages.team_language(s, workspace_id=bot.team_id, channel="C0OTHER") == EN  # no Slack locale known


def test_an_unknown_language_is_refused_and_nothing_is_written(bot: Bot) -> None:
    said = bot.say(ANA, "/mkt language klingon")
    assert "klingon" in said and "zh-CN" in said, said
    assert bot.rows("SELECT count(*) FROM post_languages WHERE workspace_id = :t", t=bot.team_id) == [(0,)]
