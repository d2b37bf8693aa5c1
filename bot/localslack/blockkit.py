"""Block Kit as Slack checks it: the limits that make Slack reject a whole message or view
(`block_errors`, `view_errors`), and the view state Slack builds for interactions and submissions.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from bot.localslack.records import JSONDict

VIEW_BLOCK_LIMIT = 100

# ---- Block Kit limits (the ones the README lists; Slack rejects the whole message/view) -------------


def _text_errors(obj: Any, pointer: str, limit: int, errors: list[str]) -> None:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        errors.append(f"[ERROR] must be a text object [json-pointer:{pointer}]")
        return
    if obj.get("type") not in ("plain_text", "mrkdwn"):
        errors.append(f"[ERROR] must be plain_text or mrkdwn [json-pointer:{pointer}/type]")
    text = obj["text"]
    if len(text) == 0:
        errors.append(f"[ERROR] must be more than 0 characters [json-pointer:{pointer}/text]")
    elif len(text) > limit:
        errors.append(f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}/text]")


def _element_errors(element: Any, pointer: str, errors: list[str]) -> None:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        errors.append(f"[ERROR] must be an element object [json-pointer:{pointer}]")
        return
    action_id = element.get("action_id")
    if isinstance(action_id, str) and len(action_id) > 255:
        errors.append(f"[ERROR] must be less than 256 characters [json-pointer:{pointer}/action_id]")
    if element["type"] == "file_input":
        max_files = element.get("max_files", 10)
        if not isinstance(max_files, int) or not 1 <= max_files <= 10:
            errors.append(f"[ERROR] must be between 1 and 10 [json-pointer:{pointer}/max_files]")
        filetypes = element.get("filetypes")
        if filetypes is not None and not (isinstance(filetypes, list) and all(isinstance(t, str) for t in filetypes)):
            errors.append(f"[ERROR] must be an array of strings [json-pointer:{pointer}/filetypes]")
    if element["type"] == "button":
        _text_errors(element.get("text"), f"{pointer}/text", 75, errors)
        value = element.get("value")
        if isinstance(value, str) and len(value) > 2000:
            errors.append(f"[ERROR] must be less than 2001 characters [json-pointer:{pointer}/value]")
        url = element.get("url")
        if isinstance(url, str) and len(url) > 3000:
            errors.append(f"[ERROR] must be less than 3001 characters [json-pointer:{pointer}/url]")


def block_errors(blocks: Any, *, limit: int) -> list[str]:
    """Slack-style error strings for the Block Kit limits most likely to bite; [] when fine."""
    errors: list[str] = []
    if not isinstance(blocks, list):
        return ["[ERROR] must be an array [json-pointer:/blocks]"]
    if len(blocks) > limit:
        errors.append(f"[ERROR] no more than {limit} items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        ptr = f"/blocks/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"[ERROR] must be a block object [json-pointer:{ptr}]")
            continue
        block_id = block.get("block_id")
        if isinstance(block_id, str) and len(block_id) > 255:
            errors.append(f"[ERROR] must be less than 256 characters [json-pointer:{ptr}/block_id]")
        kind = block["type"]
        if kind == "section":
            if "text" in block:
                _text_errors(block["text"], f"{ptr}/text", 3000, errors)
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    errors.append(f"[ERROR] no more than 10 items allowed [json-pointer:{ptr}/fields]")
                else:
                    for j, f in enumerate(fields):
                        _text_errors(f, f"{ptr}/fields/{j}", 2000, errors)
            if "text" not in block and not fields:
                errors.append(f"[ERROR] must provide text or fields [json-pointer:{ptr}]")
            if "accessory" in block:
                _element_errors(block["accessory"], f"{ptr}/accessory", errors)
        elif kind == "header":
            _text_errors(block.get("text"), f"{ptr}/text", 150, errors)
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements or len(elements) > 25:
                errors.append(f"[ERROR] must have 1 to 25 elements [json-pointer:{ptr}/elements]")
            else:
                for j, el in enumerate(elements):
                    _element_errors(el, f"{ptr}/elements/{j}", errors)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements or len(elements) > 10:
                errors.append(f"[ERROR] must have 1 to 10 elements [json-pointer:{ptr}/elements]")
        elif kind == "input":
            _text_errors(block.get("label"), f"{ptr}/label", 2000, errors)
            _element_errors(block.get("element"), f"{ptr}/element", errors)
    return errors


def view_errors(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["[ERROR] must be an object [json-pointer:/view]"]
    errors: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        errors.append("[ERROR] must be modal or home [json-pointer:/view/type]")
    if kind == "modal" or "title" in view:
        _text_errors(view.get("title"), "/view/title", 24, errors)
    for key in ("submit", "close"):
        if view.get(key) is not None:
            _text_errors(view[key], f"/view/{key}", 24, errors)
    pm = view.get("private_metadata")
    if isinstance(pm, str) and len(pm) > 3000:
        errors.append("[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]")
    cb = view.get("callback_id")
    if isinstance(cb, str) and len(cb) > 255:
        errors.append("[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]")
    blocks = view.get("blocks", [])
    errors.extend(
        e.replace("json-pointer:/blocks", "json-pointer:/view/blocks")
        for e in block_errors(blocks, limit=VIEW_BLOCK_LIMIT)
    )
    if (
        kind == "modal"
        and isinstance(blocks, list)
        and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        and not view.get("submit")
    ):
        errors.append("[ERROR] must provide submit when using input blocks [json-pointer:/view/submit]")
    return errors


# ---- view state for submissions ---------------------------------------------------------------------


def _find_option(element: JSONDict, value: str) -> JSONDict | None:
    options: list[Any] = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        if isinstance(group, dict):
            options.extend(group.get("options") or [])
    for opt in options:
        if isinstance(opt, dict) and opt.get("value") == value:
            return opt
    return None


def state_value(element: JSONDict, value: Any) -> JSONDict:
    """Turn a convenient Python value into the `state.values` entry Slack sends for `element`."""
    etype = str(element.get("type"))
    if isinstance(value, dict):
        return {"type": etype, **value}
    if etype in ("static_select", "radio_buttons", "external_select"):
        if value is None:
            return {"type": etype, "selected_option": None}
        opt = _find_option(element, str(value)) or {
            "text": {"type": "plain_text", "text": str(value)},
            "value": str(value),
        }
        return {"type": etype, "selected_option": opt}
    if etype in ("multi_static_select", "checkboxes", "multi_external_select"):
        values = [] if value is None else list(value)
        opts = [_find_option(element, str(v)) or {"value": str(v)} for v in values]
        return {"type": etype, "selected_options": opts}
    if etype == "datepicker":
        return {"type": etype, "selected_date": value}
    if etype == "file_input":
        return {"type": etype, "files": [] if value is None else list(value)}
    if etype == "timepicker":
        return {"type": etype, "selected_time": value}
    if etype == "datetimepicker":
        return {"type": etype, "selected_date_time": value}
    if etype == "users_select":
        return {"type": etype, "selected_user": value}
    if etype == "multi_users_select":
        return {"type": etype, "selected_users": [] if value is None else list(value)}
    if etype == "conversations_select":
        return {"type": etype, "selected_conversation": value}
    if etype == "multi_conversations_select":
        return {"type": etype, "selected_conversations": [] if value is None else list(value)}
    if etype == "channels_select":
        return {"type": etype, "selected_channel": value}
    if etype == "multi_channels_select":
        return {"type": etype, "selected_channels": [] if value is None else list(value)}
    return {"type": etype, "value": None if value is None else str(value)}


def input_elements(blocks: Any) -> Iterable[tuple[str, str, JSONDict]]:
    """(block_id, action_id, element) for every stateful element of a view."""
    for block in blocks or []:
        if not isinstance(block, dict):
            continue
        block_id = str(block.get("block_id", ""))
        if block.get("type") == "input" and isinstance(block.get("element"), dict):
            el = block["element"]
            yield block_id, str(el.get("action_id", "")), el
        elif block.get("type") == "actions":
            for el in block.get("elements") or []:
                if isinstance(el, dict) and el.get("type") != "button":
                    yield block_id, str(el.get("action_id", "")), el
        elif block.get("type") == "section" and isinstance(block.get("accessory"), dict):
            el = block["accessory"]
            if el.get("type") not in ("button", "image", "overflow"):
                yield block_id, str(el.get("action_id", "")), el


def find_action(blocks: Any, action_id: str, block_id: str | None = None) -> tuple[str, JSONDict] | None:
    for block in blocks or []:
        if not isinstance(block, dict):
            continue
        if block_id is not None and str(block.get("block_id", "")) != block_id:
            continue
        candidates: list[Any] = []
        if block.get("type") == "actions":
            candidates = list(block.get("elements") or [])
        elif block.get("type") == "section" and block.get("accessory") is not None:
            candidates = [block["accessory"]]
        elif block.get("type") == "input" and block.get("element") is not None:
            candidates = [block["element"]]
        for el in candidates:
            if isinstance(el, dict) and el.get("action_id") == action_id:
                return str(block.get("block_id", "")), el
    return None


def ensure_block_ids(blocks: Any) -> Any:
    """Slack assigns a random block_id to blocks sent without one (and action_ids to elements)."""
    if not isinstance(blocks, list):
        return blocks
    out = []
    for i, block in enumerate(blocks):
        if isinstance(block, dict) and "block_id" not in block:
            block = {**block, "block_id": base64.b32encode(f"b{i}".encode()).decode().strip("=")[:5]}
        out.append(block)
    return out
