"""The local Slack's files as Slack has them: a modal's file_input, a person's uploads, a file shared in a
DM, and private URLs that need the bot's token."""

from __future__ import annotations

import json
import urllib.request

import pytest

from bot.localslack import LocalSlack
from bot.localslack.blockkit import view_errors

FILE_VIEW = {
    "type": "modal", "callback_id": "x", "title": {"type": "plain_text", "text": "Import"},
    "submit": {"type": "plain_text", "text": "Go"},
    "blocks": [{"type": "input", "block_id": "file", "label": {"type": "plain_text", "text": "File"},
                "element": {"type": "file_input", "action_id": "field", "filetypes": ["csv"], "max_files": 1}}],
}


def test_a_file_input_takes_one_to_ten_files() -> None:
    assert view_errors(FILE_VIEW) == []
    bad = json.loads(json.dumps(FILE_VIEW))
    bad["blocks"][0]["element"]["max_files"] = 11
    assert any("max_files" in e for e in view_errors(bad))


@pytest.fixture
def slack() -> LocalSlack:
    slack = LocalSlack().start()
    slack.add_user("U1", "ana")
    yield slack
    slack.stop()


def test_a_submitted_file_input_carries_the_file_objects(slack: LocalSlack) -> None:
    trigger = slack.issue_trigger_id("U1")
    view_id = slack.handle_api("views.open", {"trigger_id": trigger, "view": json.dumps(FILE_VIEW)},
                               {"Authorization": f"Bearer {slack.bot_token}"})[1]["view"]["id"]
    f = slack.upload_user_file("U1", "kpis.csv", b"date,visits\n")
    state = slack._file_input_state(slack.get_view(view_id)["blocks"][0]["element"], [f.id])
    [shown] = state["files"]
    assert shown["id"] == f.id and shown["name"] == "kpis.csv" and shown["user"] == "U1"
    assert shown["url_private_download"].endswith("/download/kpis.csv")
    with pytest.raises(ValueError):  # the element takes .csv only, as Slack's client enforces
        slack._file_input_state(FILE_VIEW["blocks"][0]["element"], [slack.upload_user_file("U1", "a.pdf", b"x").id])
    info = slack.handle_api("files.info", {"file": f.id}, {"Authorization": f"Bearer {slack.bot_token}"})[1]
    assert info["ok"] and info["file"]["size"] == len(b"date,visits\n")


def test_a_private_download_needs_the_bot_token(slack: LocalSlack) -> None:
    f = slack.upload_user_file("U1", "kpis.csv", b"date,visits\n")
    url = slack.file_json(f.id)["url_private_download"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as answer:  # no token: Slack's sign-in page
        assert answer.status == 200 and "text/html" in answer.headers["Content-Type"]
    wrong = urllib.request.Request(url, headers={"Authorization": "Bearer xoxb-wrong"})
    with opener.open(wrong, timeout=5) as answer:
        assert b"Sign in" in answer.read()
    right = urllib.request.Request(url, headers={"Authorization": f"Bearer {slack.bot_token}"})
    with opener.open(right, timeout=5) as answer:
        assert answer.read() == b"date,visits\n"


def test_admins_and_owners_show_in_users_info(slack: LocalSlack) -> None:
    def user() -> dict[str, object]:
        return slack.handle_api("users.info", {"user": "U1"}, {"Authorization": f"Bearer {slack.bot_token}"})[1]["user"]

    assert (user()["is_admin"], user()["is_owner"]) == (False, False)
    slack.set_role("U1", admin=True)
    assert (user()["is_admin"], user()["is_owner"]) == (True, False)
    slack.set_role("U1", owner=True)
    assert (user()["is_admin"], user()["is_owner"]) == (True, True)
