"""The Slack side of mktbot: one module per domain, each with its slash command (a pure parser plus a
handler), its buttons, its forms and their pure form parsers, and `register(app, runtime)` for its listeners;
`commands.shortcuts` has the message shortcuts and `commands.home` the App Home tab. What runs after an ack
is a list of plain values (commands.followups) that bot.after_ack executes.

Every command answers in the user's language when it is cached (bot.locale), else in the workspace's, and
warms the cache after the ack for next time. `/task`, `/goal`, `/campaign` and `/feedback` typed with
nothing after them open their form instead.
"""

from __future__ import annotations

from slack_bolt import App

from bot.runtime import Runtime
from commands import campaign, feedback, goal, home, kpi, mkt, retro, shortcuts, task
from commands.base import SlashCommand, listen_for_commands

COMMANDS: dict[str, SlashCommand] = {
    module.COMMAND.name: module.COMMAND for module in (task, goal, kpi, campaign, feedback, retro, mkt)
}


def register(app: App, runtime: Runtime) -> None:
    # The slash commands first (one listener for all: they are the ack path), then each module's own listeners.
    listen_for_commands(app, runtime, COMMANDS)
    for module in (task, goal, kpi, campaign, feedback, home, shortcuts, retro):
        module.register(app, runtime)
