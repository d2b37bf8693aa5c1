"""A local Slack-compatible server for end-to-end tests and the playground.

with LocalSlack(bot_url="http://127.0.0.1:3000/slack/events") as slack:
    client = WebClient(token=slack.bot_token, base_url=slack.api_url)
    ...

Layout of the package:

- `records`: what Slack records and holds (`Call`, `Message`, `File`, `HTTPResult`, `CommandResult`,
  `Delivery`, `SlackError` and private state records).
- `mrkdwn`: Slack's text rules (markup spans, escaping, rich_text elements), a copy of its own.
- `blockkit`: Block Kit limits as Slack checks them, and view state for submissions.
- `args`: Web API argument access (flags, JSON fields, cursors).
- `workspace`: the state (directory, recorded traffic, messages, views, files) and the queries on it.
- One module per Web API family: `auth`, `chat`, `users`, `conversations`, `reactions`, `views`, `files`
  (with the upload URL); `response_url` (command acks and response URL posts).
- `faults`: canned answers, lost answers (fault injection for tests).
- `drivers`: Slack towards the bot (`send_command`, `send_event`, `click_button`, `submit_view`, ...), over
  HTTP or, with `socket_mode = True`, over Socket Mode.
- `socket_mode`: `apps.connections.open` and the WebSocket with Slack's envelopes and acks.
- `httpd`: the HTTP layer (routing, request parsing, responses).
- `slack`: `LocalSlack`, all of the above put together with the method table and dispatch.
- `playground_api`: the browser playground's JSON API; `signing`: Slack's request signatures.
- `store`: what the playground's Slack keeps across restarts (history, threads, files, reactions, DMs), in
  one SQLite file.
"""

from bot.localslack.blockkit import block_errors, view_errors
from bot.localslack.records import Call, CommandResult, Delivery, File, HTTPResult, Message, SlackError
from bot.localslack.signing import sign, signed_headers, verify
from bot.localslack.slack import LocalSlack

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
