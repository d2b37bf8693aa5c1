"""The strings in what the bot sends Slack: Block Kit payloads, views, messages and recorded Web API calls.

    texts(view["blocks"])                  # every text a reader sees: labels, options, placeholders, buttons
    texts(body, plain_text=False)          # only the texts Slack parses for <!channel>, <@U…> and links
    strings(call.args, json_strings=True)  # every string anywhere, with where it is ("$.blocks[0].text.text")
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def strings(
    node: Any, *, plain_text: bool = True, json_strings: bool = False, path: str = "$"
) -> Iterator[tuple[str, str]]:
    """Every string in `node`, in document order, with its path.

    `plain_text=False` skips plain_text objects (Slack shows them literally: `<!here>` in a header pings no one);
    `json_strings=True` walks a string holding JSON (form-encoded blocks, a view) as what it encodes.
    """
    if isinstance(node, dict):
        if not plain_text and node.get("type") == "plain_text":
            return
        for key, value in node.items():
            yield from strings(value, plain_text=plain_text, json_strings=json_strings, path=f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from strings(value, plain_text=plain_text, json_strings=json_strings, path=f"{path}[{i}]")
    elif isinstance(node, str):
        if json_strings and node[:1] in "[{":
            try:
                decoded = json.loads(node)
            except ValueError:
                pass
            else:
                yield from strings(decoded, plain_text=plain_text, json_strings=json_strings, path=path)
                return
        yield path, node


def texts(node: Any, *, plain_text: bool = True) -> list[str]:
    """Every `text` string in `node` (text objects, rich-text runs, a message's fallback), in document order."""
    return [value for where, value in strings(node, plain_text=plain_text) if where.endswith(".text")]
