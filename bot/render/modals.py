"""Modal views: pure functions from choices and prefills to a `views.open` payload, within Slack's limits.

Every input block's block_id is a bot.ids.BlockId naming the field, and its element's action_id is
ActionId.FIELD, so a submission reads `state.values[BlockId.TITLE][ActionId.FIELD]`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.i18n import DEFAULT_LOCALE, t
from bot.ids import ActionId, BlockId, CallbackId
from bot.slack_text import esc, truncate

MODAL_TEXT = 24  # title, submit and close
OPTION_TEXT = 75
OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_MODAL_BLOCKS = 100
PRIVATE_METADATA = 3000
SECTION_TEXT = 3000
INPUT_MAX = 3000
TITLE_MAX = 500
SOURCE_QUOTE = 600


@dataclass(frozen=True)
class Choice:
    """One option of a select: the value is a record reference ("C-2"), never a database id."""

    value: str
    label: str


@dataclass(frozen=True)
class Choices:
    campaigns: list[Choice] = field(default_factory=list)
    goals: list[Choice] = field(default_factory=list)
    metrics: list[Choice] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)  # the team's channels, in the order first logged


MAX_CHANNELS_SUGGESTED = 8


def _channel_suggestions(choices: Choices, locale: str, fixed: str) -> tuple[str, str | None]:
    """(placeholder, hint) of a channel field: the team's own channels when it has logged any, else `fixed`."""
    if not choices.channels:
        return fixed, None
    separator = t("list.separator", locale)
    shown = choices.channels[:MAX_CHANNELS_SUGGESTED]
    placeholder = separator.join(shown[:3]) + ("…" if len(shown) > 3 else "")
    more = "…" if len(choices.channels) > MAX_CHANNELS_SUGGESTED else ""
    return placeholder, t("modal.channels_known", locale, channels=separator.join(shown) + more)


@dataclass(frozen=True)
class TaskPrefill:
    title: str = ""
    owner: str | None = None
    due: date | None = None
    start: date | None = None
    campaign: str | None = None
    goal: str | None = None
    source_text: str | None = None  # the message a shortcut started from, shown above the fields


@dataclass(frozen=True)
class FeedbackPrefill:
    text: str = ""
    source: str = "team"
    source_text: str | None = None


# ---- private_metadata ------------------------------------------------------------------------------

def encode_metadata(data: dict[str, Any]) -> str:
    """Compact JSON under Slack's 3,000 characters; the optional keys go first if it would not fit."""
    clean = {k: v for k, v in data.items() if v not in (None, "")}
    text = json.dumps(clean, ensure_ascii=False, separators=(",", ":"))
    for optional in ("q", "u", "p"):  # quoted text, response_url, permalink: nice to have, never required
        if len(text) < PRIVATE_METADATA - SEAL_CHARS - 1:
            break
        clean.pop(optional, None)
        text = json.dumps(clean, ensure_ascii=False, separators=(",", ":"))
    if len(text) >= PRIVATE_METADATA - SEAL_CHARS - 1:
        raise ValueError("private_metadata would exceed Slack's 3,000 characters")
    return text


SEAL_CHARS = 32  # hex characters of the HMAC in front of a sealed private_metadata, plus one ":"


def seal_metadata(text: str, *, team: str, key: bytes) -> str:
    """`text` bound to the workspace it was shown in: "<hmac>:<text>", the HMAC over the team id and the text.
    A view submission can carry any private_metadata its sender likes; only a sealed one is trusted."""
    mac = hmac.new(key, f"{team}\n{text}".encode(), hashlib.sha256).hexdigest()[:SEAL_CHARS]
    return f"{mac}:{text}"


def unseal_metadata(sealed: str | None, *, team: str, key: bytes) -> str | None:
    """The text sealed for `team`, "" for a view with no metadata, None when it was not sealed for this team."""
    if not sealed:
        return ""
    mac, _, text = sealed.partition(":")
    expected = hmac.new(key, f"{team}\n{text}".encode(), hashlib.sha256).hexdigest()[:SEAL_CHARS]
    return text if hmac.compare_digest(mac, expected) else None


def decode_metadata(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


# ---- elements ----------------------------------------------------------------------------------------

def _plain(text: str, limit: int = OPTION_TEXT) -> PlainTextObject:
    return PlainTextObject(text=truncate(text, limit), emoji=True)


def _options(choices: list[Choice]) -> list[Option]:
    return [
        Option(text=_plain(c.label), value=truncate(c.value, OPTION_VALUE))
        for c in choices[:MAX_OPTIONS]
    ]


def _input(block_id: BlockId, label: str, element: Any, *, optional: bool = False, hint: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=_plain(label, 2000),
        element=element,
        optional=optional,
        hint=_plain(hint, 2000) if hint else None,
    )


def text_input(
    block_id: BlockId, label: str, *, initial: str | None = None, multiline: bool = False, optional: bool = False,
    placeholder: str | None = None, hint: str | None = None, max_length: int = INPUT_MAX,
) -> InputBlock:
    element = PlainTextInputElement(
        action_id=ActionId.FIELD,
        initial_value=truncate(initial, max_length) if initial else None,
        multiline=multiline,
        max_length=max_length,
        placeholder=_plain(placeholder, 150) if placeholder else None,
    )
    return _input(block_id, label, element, optional=optional, hint=hint)


def date_input(block_id: BlockId, label: str, *, initial: date | None = None, optional: bool = False,
               hint: str | None = None) -> InputBlock:
    element = DatePickerElement(action_id=ActionId.FIELD, initial_date=initial.isoformat() if initial else None)
    return _input(block_id, label, element, optional=optional, hint=hint)


def user_input(block_id: BlockId, label: str, *, initial: str | None = None, optional: bool = True) -> InputBlock:
    element = UserSelectElement(action_id=ActionId.FIELD, initial_user=initial)
    return _input(block_id, label, element, optional=optional)


def select_input(
    block_id: BlockId, label: str, choices: list[Choice], *, initial: str | None = None, optional: bool = True,
    placeholder: str | None = None, hint: str | None = None,
) -> InputBlock | None:
    """A static select of at most 100 options; None when there is nothing to choose from (Slack rejects an empty one)."""
    options = _options(choices)
    if not options:
        return None
    chosen = next((o for o in options if o.value == initial), None)
    element = StaticSelectElement(
        action_id=ActionId.FIELD,
        options=options,
        initial_option=chosen,
        placeholder=_plain(placeholder, 150) if placeholder else None,
    )
    return _input(block_id, label, element, optional=optional, hint=hint)


def radio_input(block_id: BlockId, label: str, choices: list[Choice], *, initial: str | None = None) -> InputBlock:
    options = _options(choices)
    chosen = next((o for o in options if o.value == initial), None)
    return _input(block_id, label, RadioButtonsElement(action_id=ActionId.FIELD, options=options, initial_option=chosen))


def _quote(text: str | None, locale: str) -> ContextBlock | None:
    if not text:
        return None
    quoted = truncate(" ".join(text.split()), SOURCE_QUOTE)
    return ContextBlock(block_id=BlockId.SOURCE_MESSAGE,
                        elements=[MarkdownTextObject(text=t("modal.from_message", locale, text=esc(quoted)))])


def modal(
    callback_id: CallbackId, *, title: str, submit: str | None, blocks: list[Block | None], metadata: dict[str, Any],
    locale: str, close: str | None = None,
) -> dict[str, Any]:
    """A modal view as a dict, checked against slack_sdk's own Block Kit model before it leaves."""
    kept = [b for b in blocks if b is not None][:MAX_MODAL_BLOCKS]
    view = View(
        type="modal",
        callback_id=callback_id,
        title=_plain(title, MODAL_TEXT),
        submit=_plain(submit, MODAL_TEXT) if submit else None,
        close=_plain(close or t("modal.cancel", locale), MODAL_TEXT),
        blocks=kept,
        private_metadata=encode_metadata(metadata),
    )
    view.validate_json()
    return view.to_dict()


# ---- the four record modals ------------------------------------------------------------------------

def task_modal(*, locale: str = DEFAULT_LOCALE, choices: Choices, prefill: TaskPrefill | None = None,
               metadata: dict[str, Any]) -> dict[str, Any]:
    p = prefill or TaskPrefill()
    blocks: list[Block | None] = [
        _quote(p.source_text, locale),
        text_input(BlockId.TITLE, t("modal.task.title_label", locale), initial=p.title, max_length=TITLE_MAX,
                   placeholder=t("modal.task.title_placeholder", locale)),
        user_input(BlockId.OWNER, t("field.owner", locale), initial=p.owner),
        date_input(BlockId.START, t("field.start", locale), initial=p.start, optional=True),
        date_input(BlockId.DUE, t("field.due", locale), initial=p.due, optional=True),
        select_input(BlockId.CAMPAIGN, t("field.campaign", locale), choices.campaigns, initial=p.campaign,
                     placeholder=t("modal.pick_campaign", locale)),
        select_input(BlockId.GOAL, t("field.goal", locale), choices.goals, initial=p.goal,
                     placeholder=t("modal.pick_goal", locale)),
    ]
    return modal(CallbackId.TASK_MODAL, title=t("modal.task.title", locale), submit=t("modal.task.submit", locale),
                 blocks=blocks, metadata=metadata, locale=locale)


def goal_modal(*, locale: str = DEFAULT_LOCALE, choices: Choices, metadata: dict[str, Any], owner: str | None = None) -> dict[str, Any]:
    channel_placeholder, channel_hint = _channel_suggestions(choices, locale, t("modal.goal.channel_placeholder", locale))
    metric_select = select_input(BlockId.METRIC, t("field.metric", locale), choices.metrics,
                                 placeholder=t("modal.goal.pick_metric", locale))
    new_metric = text_input(
        BlockId.NEW_METRIC, t("modal.goal.new_metric" if metric_select else "field.metric", locale),
        optional=metric_select is not None, max_length=100, placeholder=t("modal.goal.metric_placeholder", locale),
    )
    blocks: list[Block | None] = [
        text_input(BlockId.TITLE, t("modal.goal.title_label", locale), max_length=TITLE_MAX,
                   placeholder=t("modal.goal.title_placeholder", locale)),
        metric_select,
        new_metric,
        text_input(BlockId.TARGET, t("field.target", locale), max_length=40,
                   placeholder="2.5m · ¥200k · 4%", hint=t("modal.number_hint", locale)),
        date_input(BlockId.DUE, t("modal.goal.deadline", locale)),
        text_input(BlockId.BASELINE, t("modal.goal.baseline", locale), optional=True, max_length=40),
        date_input(BlockId.START, t("field.start", locale), optional=True, hint=t("modal.goal.start_hint", locale)),
        user_input(BlockId.OWNER, t("field.owner", locale), initial=owner),
        select_input(BlockId.PARENT, t("field.part_of", locale), choices.goals, placeholder=t("modal.pick_goal", locale)),
        text_input(BlockId.CHANNEL, t("modal.goal.channel", locale), optional=True, max_length=100,
                   placeholder=channel_placeholder, hint=channel_hint),
    ]
    return modal(CallbackId.GOAL_MODAL, title=t("modal.goal.title", locale), submit=t("modal.goal.submit", locale),
                 blocks=blocks, metadata=metadata, locale=locale)


def campaign_modal(*, locale: str = DEFAULT_LOCALE, choices: Choices, metadata: dict[str, Any]) -> dict[str, Any]:
    channels_placeholder, channels_hint = _channel_suggestions(
        choices, locale, t("modal.campaign.channels_placeholder", locale))
    blocks: list[Block | None] = [
        text_input(BlockId.NAME, t("modal.campaign.name", locale), max_length=TITLE_MAX,
                   placeholder=t("modal.campaign.name_placeholder", locale)),
        date_input(BlockId.START, t("field.start", locale)),
        date_input(BlockId.END, t("modal.campaign.end", locale)),
        text_input(BlockId.CHANNELS, t("field.channels", locale), optional=True, max_length=500,
                   placeholder=channels_placeholder, hint=channels_hint),
        text_input(BlockId.BUDGET, t("field.budget", locale), optional=True, max_length=40, placeholder="¥200k",
                   hint=t("modal.amount_hint", locale)),
        select_input(BlockId.GOAL, t("field.goal", locale), choices.goals, placeholder=t("modal.pick_goal", locale)),
        text_input(BlockId.AUDIENCE, t("field.audience", locale), optional=True, max_length=1000),
        text_input(BlockId.THEME, t("field.theme", locale), optional=True, max_length=1000),
    ]
    return modal(CallbackId.CAMPAIGN_MODAL, title=t("modal.campaign.title", locale),
                 submit=t("modal.campaign.submit", locale), blocks=blocks, metadata=metadata, locale=locale)


def feedback_modal(*, locale: str = DEFAULT_LOCALE, choices: Choices, metadata: dict[str, Any],
                   prefill: FeedbackPrefill | None = None) -> dict[str, Any]:
    p = prefill or FeedbackPrefill()
    sources = [Choice("customer", t("feedback.source.customer", locale)), Choice("team", t("feedback.source.team", locale))]
    blocks: list[Block | None] = [
        _quote(p.source_text, locale) if p.source_text and p.source_text.strip() != p.text.strip() else None,
        text_input(BlockId.TEXT, t("modal.feedback.text", locale), initial=p.text, multiline=True),
        radio_input(BlockId.SOURCE, t("modal.feedback.source", locale), sources, initial=p.source),
        select_input(BlockId.CAMPAIGN, t("field.campaign", locale), choices.campaigns, placeholder=t("modal.pick_campaign", locale)),
        select_input(BlockId.GOAL, t("field.goal", locale), choices.goals, placeholder=t("modal.pick_goal", locale)),
        text_input(BlockId.TAGS, t("modal.feedback.tags", locale), optional=True, max_length=300, placeholder="#checkout #mobile"),
    ]
    return modal(CallbackId.FEEDBACK_MODAL, title=t("modal.feedback.title", locale),
                 submit=t("modal.feedback.submit", locale), blocks=blocks, metadata=metadata, locale=locale)


# ---- small modals opened by buttons ------------------------------------------------------------------

def _about(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT)))


def block_reason_modal(*, locale: str = DEFAULT_LOCALE, ref: str, summary: str, metadata: dict[str, Any]) -> dict[str, Any]:
    blocks: list[Block | None] = [
        _about(summary),
        text_input(BlockId.REASON, t("modal.block.reason", locale), multiline=True, max_length=1000,
                   placeholder=t("modal.block.reason_placeholder", locale)),
    ]
    return modal(CallbackId.TASK_BLOCK_MODAL, title=t("modal.block.title", locale, ref=ref),
                 submit=t("modal.block.submit", locale), blocks=blocks, metadata=metadata, locale=locale)


def checkin_modal(*, locale: str = DEFAULT_LOCALE, ref: str, summary: str, metadata: dict[str, Any]) -> dict[str, Any]:
    confidence = [Choice(str(n), str(n)) for n in range(1, 11)]
    blocks: list[Block | None] = [
        _about(summary),
        text_input(BlockId.VALUE, t("modal.checkin.value", locale), max_length=40, placeholder="1.2m · ¥80k · 3.5%",
                   hint=t("modal.number_hint", locale)),
        select_input(BlockId.CONFIDENCE, t("modal.checkin.confidence", locale), confidence,
                     hint=t("modal.checkin.confidence_hint", locale)),
        text_input(BlockId.NOTE, t("modal.checkin.note", locale), optional=True, multiline=True, max_length=1000),
    ]
    return modal(CallbackId.GOAL_CHECKIN_MODAL, title=t("modal.checkin.title", locale, ref=ref),
                 submit=t("modal.checkin.submit", locale), blocks=blocks, metadata=metadata, locale=locale)


RETRO_CATEGORIES = ("well", "not", "try", "action", "note")


def retro_note_modal(*, locale: str = DEFAULT_LOCALE, ref: str, summary: str, metadata: dict[str, Any]) -> dict[str, Any]:
    categories = [Choice(c, t(f"modal.retro.category.{c}", locale)) for c in RETRO_CATEGORIES]
    blocks: list[Block | None] = [
        _about(summary),
        radio_input(BlockId.CATEGORY, t("modal.retro.category", locale), categories, initial="well"),
        text_input(BlockId.TEXT, t("modal.retro.text", locale), multiline=True, max_length=2000),
        user_input(BlockId.OWNER, t("modal.retro.owner", locale)),
        date_input(BlockId.DUE, t("modal.retro.due", locale), optional=True),
    ]
    return modal(CallbackId.RETRO_NOTE_MODAL, title=t("modal.retro.title", locale, ref=ref),
                 submit=t("modal.retro.submit", locale), blocks=blocks, metadata=metadata, locale=locale)
