"""Slack's text rules, in one place: escaping for mrkdwn, undoing Slack's entities, mentions, truncation.

Nothing here imports the rest of the bot, so parsers (commands.grammar) and renderers (bot.render) share it.
(bot.localslack keeps its own copy of these rules on purpose: it stands in for Slack, not for the bot.)

One rule everywhere:
1. In: Slack sends message and slash-command text with `&`, `<`, `>` typed by the person escaped as
   `&amp;`, `&lt;`, `&gt;`; its own markup (<@U123>, <#C123|name>, <https://…|label>, <!here>) arrives as is.
   `slack_unescape` undoes the entities at the edge, outside that markup, which stays exactly as sent.
   What is stored is what the person typed ("R&D", "<again>"), with Slack's markup tokens in it.
2. Out: stored text is escaped exactly once when it is put into mrkdwn: `esc` shows everything literally
   (titles: a typed `<!channel>` never pings), `esc_keep_mentions` keeps people, channels and links live
   (a retro summary quoting the thread) and still shows special mentions (<!channel>, <!here>) literally.
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: any Slack markup span: <@U123|ana>, <#C123|name>, <!channel>, <https://x.y|label>, <mailto:…>
SLACK_SPAN = re.compile(r"<(?:[@#!]|[A-Za-z][A-Za-z0-9+.\-]*:)[^<>\n]*>")
#: the spans that may stay live when shown again: a person, a channel, a link (never <!here>, <!channel>, groups)
LIVE_SPAN = re.compile(
    r"<@[UW][A-Z0-9]+(?:\|[^<>\n]*)?>"
    r"|<#[CG][A-Z0-9]+(?:\|[^<>\n]*)?>"
    r"|<(?:https?|mailto):[^<>|\s]+(?:\|[^<>\n]*)?>",
    re.IGNORECASE,
)
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_NAMED_MENTION = re.compile(r"<@([UW][A-Z0-9]+)\|([^>]+)>")
_LABELLED_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_BARE_LINK = re.compile(r"<(https?://[^>]+)>")


def esc(text: str | None) -> str:
    """User-typed text shown in mrkdwn: `<!channel>` typed into a title must never ping anyone."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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


def unescape_entities(text: str) -> str:
    """Slack's `&amp;`, `&lt;`, `&gt;` → `&`, `<`, `>`."""
    return _ENTITY.sub(lambda e: _ENTITIES[e.group(1)], text)


def slack_unescape(text: str | None) -> str:
    """Text as Slack sends it (message events, slash commands) → as the person typed it.

    `R&amp;D &lt;again&gt; <@U1>` → `R&D <again> <@U1>`: Slack's entities are undone outside its markup;
    the markup spans stay exactly as sent (entities inside a link's URL or label included), so they can
    be shown live again by `esc_keep_mentions`.
    """
    return map_outside(SLACK_SPAN, text, unescape_entities) if text else ""


def esc_keep_mentions(text: str | None) -> str:
    """Stored user text (see `slack_unescape`) for mrkdwn, escaped once: "R&D <again>" shows as typed,
    <@U1>, <#C1|x> and <https://…|label> stay live, and special mentions (<!channel>, <!here>) show literally."""
    return map_outside(LIVE_SPAN, text, esc) if text else ""


def as_read(text: str) -> str:
    """A message's text as a person reads it (a form's prefill): <@U…|name> shown as @name, a labelled
    link as "label (url)", a bare link as its URL, and Slack's &amp;, &lt; and &gt; undone."""
    text = _NAMED_MENTION.sub(r"@\2", text)
    text = _LABELLED_LINK.sub(r"\2 (\1)", text)
    text = _BARE_LINK.sub(r"\1", text)
    return unescape_entities(text)


SAFE_URL = re.compile(r"^(?:https?://|mailto:)(?:(?!&lt;|&gt;)[^\s<>|])+$", re.IGNORECASE)


def link(url: str, label: str | None = None) -> str:
    """A link in mrkdwn, `<url|label>` with the label escaped; a URL Slack could read as markup (a `<`, `>`,
    `|` or entity in it, so `<!channel>` could ride inside) is shown as plain escaped text, never as a link."""
    if not SAFE_URL.match(url):
        return esc(f"{label} ({url})" if label else url)
    return f"<{url}|{esc(label or url)}>"


def user_mention(user_id: str) -> str:
    """A person's live mention: `<@U123>`."""
    return f"<@{user_id}>"


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
