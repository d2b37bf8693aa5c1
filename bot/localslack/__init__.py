"""A local Slack-compatible server for end-to-end tests and the playground.

with LocalSlack(bot_url="http://127.0.0.1:3000/slack/events") as slack:
    client = WebClient(token=slack.bot_token, base_url=slack.api_url)
    ...
"""

from bot.localslack.server import (
    Call,
    CommandResult,
    Delivery,
    File,
    HTTPResult,
    LocalSlack,
    Message,
    SlackError,
    block_errors,
    view_errors,
)
from bot.localslack.signing import sign, signed_headers, verify

__all__ = [
    "Call",
    "CommandResult",
    "Delivery",
    "File",
    "HTTPResult",
    "LocalSlack",
    "Message",
    "SlackError",
    "block_errors",
    "sign",
    "signed_headers",
    "verify",
    "view_errors",
]
