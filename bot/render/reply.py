"""A reply: Block Kit blocks plus the plain-text fallback, kept within Slack's limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import Block

from bot.slack_text import truncate

MAX_BLOCKS = 50
SECTION_TEXT = 3000
FIELD_TEXT = 2000
HEADER_TEXT = 150
FALLBACK_TEXT = 3900


@dataclass
class Reply:
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    in_channel: bool = False

    def ack_kwargs(self) -> dict[str, Any]:
        return {
            "text": truncate(self.text, FALLBACK_TEXT),
            "blocks": self.blocks[:MAX_BLOCKS],
            "response_type": "in_channel" if self.in_channel else "ephemeral",
        }


def mrkdwn(text: str, limit: int = SECTION_TEXT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": truncate(text, limit) or " "}


class Builder:
    """Collects blocks and the fallback text together so both always say the same thing.

    The common blocks are built as plain dicts already cut to Slack's limits (the tests parse every one
    with slack_sdk's models); building and validating model objects on every reply cost the ack path
    about a sixth of its time. Typed blocks (buttons, inputs) can still be added with `add`."""

    def __init__(self) -> None:
        self.blocks: list[Block | dict[str, Any]] = []
        self.lines: list[str] = []

    def header(self, text: str) -> Builder:
        self.blocks.append({"type": "header", "text": {"type": "plain_text", "text": truncate(text, HEADER_TEXT) or " ", "emoji": True}})
        self.lines.append(text)
        return self

    def section(self, mrkdwn_text: str, fields: list[str] | None = None) -> Builder:
        block: dict[str, Any] = {"type": "section", "text": mrkdwn(mrkdwn_text)}
        if fields:
            block["fields"] = [mrkdwn(f, FIELD_TEXT) for f in fields[:10]]
        self.blocks.append(block)
        self.lines.append(mrkdwn_text)
        if fields:
            self.lines.extend(fields[:10])
        return self

    def fields(self, fields: list[str]) -> Builder:
        for start in range(0, len(fields), 10):
            chunk = fields[start : start + 10]
            self.blocks.append({"type": "section", "fields": [mrkdwn(f, FIELD_TEXT) for f in chunk]})
            self.lines.extend(chunk)
        return self

    def context(self, mrkdwn_text: str) -> Builder:
        self.blocks.append({"type": "context", "elements": [mrkdwn(mrkdwn_text)]})
        self.lines.append(mrkdwn_text)
        return self

    def divider(self) -> Builder:
        self.blocks.append({"type": "divider"})
        return self

    def lines_section(self, lines: list[str], *, more: str = "and {n} more") -> Builder:
        """Many lines as few sections as the limits allow; what does not fit is counted, not dropped silently."""
        chunk: list[str] = []
        size = 0
        budget = MAX_BLOCKS - len(self.blocks) - 2
        for index, raw in enumerate(lines):
            line = truncate(raw, SECTION_TEXT - 1)  # one huge line must not leave an empty section behind
            if chunk and size + len(line) + 1 > SECTION_TEXT:
                if budget <= 1:
                    self.section("\n".join(chunk))
                    self.context(more.format(n=len(lines) - index))
                    return self
                self.section("\n".join(chunk))
                budget -= 1
                chunk, size = [], 0
            chunk.append(line)
            size += len(line) + 1
        if chunk:
            self.section("\n".join(chunk))
        return self

    def add(self, block: Block) -> Builder:
        self.blocks.append(block)
        return self

    def build(self, *, in_channel: bool = False, text: str | None = None) -> Reply:
        fallback = text if text is not None else "\n".join(self.lines)
        blocks = [b if isinstance(b, dict) else b.to_dict() for b in self.blocks[:MAX_BLOCKS]]
        return Reply(text=fallback, blocks=blocks, in_channel=in_channel)


def error_reply(message: str, usage: str | None = None) -> Reply:
    b = Builder().section(f":warning: {message}")
    if usage:
        b.section(f"*Usage*\n```{usage}```")
    return b.build(text=message + (f"\nUsage:\n{usage}" if usage else ""))
