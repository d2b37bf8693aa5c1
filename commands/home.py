"""The App Home tab: published when a person opens it (the data from bot.services.home, drawn by
bot.render.home, published after the ack), and its buttons to add a task or a goal through a form."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.ids import ActionId
from bot.runtime import Runtime
from commands import goal, task
from commands.base import (
    JSON,
    M_LOCALE,
    M_ORIGIN,
    ORIGIN_HOME,
    first_action,
    load_choices,
    on_action,
    on_event,
    team_of,
    user_locale,
    user_of,
)
from commands.followups import FollowUp, OpenModal, PublishHome


def on_home_opened(body: JSON, client: WebClient) -> list[FollowUp]:
    event = body.get("event") or {}
    if event.get("tab", "home") != "home":
        return []
    return [PublishHome(str(body.get("team_id") or ""), str(event.get("user") or ""))]


def open_form(runtime: Runtime, body: JSON, client: WebClient) -> list[FollowUp]:
    """"Add a task" or "Add a goal": the form, owned by the person who clicked."""
    team, user = team_of(body), user_of(body)
    locale = user_locale(runtime, client, team, user)
    form = goal.form_modal if first_action(body).get("action_id") == ActionId.HOME_ADD_GOAL else task.form_modal
    view = form(locale=locale, choices=load_choices(runtime, team), metadata={M_ORIGIN: ORIGIN_HOME, M_LOCALE: locale},
                owner=user)
    return [OpenModal(view, str(body.get("trigger_id") or ""), team, locale, tell_failure=False)]


def register(app: App, runtime: Runtime) -> None:
    for action_id in (ActionId.HOME_ADD_TASK, ActionId.HOME_ADD_GOAL):
        on_action(app, runtime, action_id, lambda body, client: open_form(runtime, body, client))
    on_event(app, runtime, "app_home_opened", on_home_opened)
