"""Slack's text rules as Slack applies them: its markup spans in message text, the escaping of `&`, `<`, `>`
outside them, the rich_text elements of a typed message, and the texts inside blocks.

The local Slack keeps its own copy of these rules on purpose: it checks the bot's text handling, so it must
not share the bot's code (bot.slack_text).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

JSONDict = dict[str, Any]

#: Slack's own markup in message text, as a client makes it (autocomplete, link detection):
#: <@U123>, <@U123|ana>, <#C123|general>, <!here>, <!subteam^S1|@team>, <https://x.y|label>, <mailto:a@b.c>
SLACK_MARKUP = re.compile(
    r"<(?:@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|![A-Za-z0-9^\-]+|(?:https?|mailto):[^<>|\s]+)(?:\|[^<>\n]*)?>"
)
_WIRE_ENTITY = re.compile(r"&(amp|lt|gt);")


def map_outside(spans: re.Pattern[str], text: str, change: Callable[[str], str]) -> str:
    """`change` applied to the text between the matches of `spans`; the matches stay exactly as they are."""
    out: list[str] = []
    pos = 0
    for m in spans.finditer(text):
        out.append(change(text[pos : m.start()]))
        out.append(m.group())
        pos = m.end()
    out.append(change(text[pos:]))
    return "".join(out)


def escape_text(text: str) -> str:
    """Escape `&`, `<` and `>` as Slack does in the text of messages and slash commands."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_escape(text: str) -> str:
    """A message as a person typed it → its `text` as Slack delivers it.

    Slack's markup spans in it (mentions, channels, special mentions, links: `SLACK_MARKUP`) stay as they
    are; every other `&`, `<`, `>` becomes `&amp;`, `&lt;`, `&gt;`: `R&D <again> <@U1>` →
    `R&amp;D &lt;again&gt; <@U1>`.
    """
    return map_outside(SLACK_MARKUP, text, escape_text)


def _unescape_text(text: str) -> str:
    return _WIRE_ENTITY.sub(lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], text)


def rich_text_elements(wire: str) -> list[JSONDict]:
    """The rich_text_section elements Slack puts in a typed message's block, from its (escaped) text:
    plain text unescaped, mentions as `user` / `channel` / `broadcast` elements, links as `link`."""
    elements: list[JSONDict] = []

    def text(part: str) -> None:
        if part:
            elements.append({"type": "text", "text": _unescape_text(part)})

    pos = 0
    for m in SLACK_MARKUP.finditer(wire):
        text(wire[pos : m.start()])
        target, _, label = m.group()[1:-1].partition("|")
        if target.startswith("@"):
            elements.append({"type": "user", "user_id": target[1:]})
        elif target.startswith("#"):
            elements.append({"type": "channel", "channel_id": target[1:]})
        elif target.startswith("!"):
            name = target[1:].split("^")[0]
            if name in ("here", "channel", "everyone"):
                elements.append({"type": "broadcast", "range": name})
            elif name == "subteam":
                elements.append({"type": "usergroup", "usergroup_id": target[1:].split("^")[1]})
            else:
                text(label or target[1:])
        else:
            link: JSONDict = {"type": "link", "url": _unescape_text(target)}
            if label:
                link["text"] = _unescape_text(label)
            elements.append(link)
        pos = m.end()
    text(wire[pos:])
    return elements or [{"type": "text", "text": ""}]


def texts_in(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from texts_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from texts_in(item)
