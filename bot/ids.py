"""Every Slack action_id, block_id and callback_id the bot uses: builders, handlers and tests share these names."""

from __future__ import annotations

from enum import StrEnum

SEPARATOR = ":"


class ActionId(StrEnum):
    # buttons on task cards (replies, digest items, reminders) and the Home tab
    TASK_START = "task.start"
    TASK_DONE = "task.done"
    TASK_BLOCK = "task.block"  # opens the reason modal
    TASK_SNOOZE = "task.snooze"
    TASK_MENU = "task.menu"  # an overflow menu with the same four choices (Home tab)
    # goals
    GOAL_CHECKIN = "goal.checkin"  # opens the check-in modal
    # retrospective thread parents
    RETRO_NOTE = "retro.note"  # opens the note modal
    RETRO_CLOSE = "retro.close"
    # Home tab
    HOME_ADD_TASK = "home.add_task"
    HOME_ADD_GOAL = "home.add_goal"
    # a KPI file's preview (its value: the pending import's id)
    KPI_IMPORT_RUN = "kpi.import_run"
    KPI_IMPORT_CANCEL = "kpi.import_cancel"
    # every input element in a modal: its block_id says which field it is
    FIELD = "field"


class BlockId(StrEnum):
    # message blocks that belong to one record: "<prefix>:<ref>", e.g. "task_actions:T-12"
    TASK_LINE = "task_line"
    TASK_NOTE = "task_note"
    TASK_ACTIONS = "task_actions"
    GOAL_ACTIONS = "goal_actions"
    RETRO_ACTIONS = "retro_actions"
    RETRO_NOTE = "retro_note"
    HOME_ACTIONS = "home_actions"
    HOME_TASK = "home_task"
    HOME_GOAL = "home_goal"
    HOME_CHART = "home_chart"
    # "post_locale:zh_CN" on a context block of a message with task buttons: the language it was written in,
    # so a click redraws it in that language (views.mark_locale / views.written_locale)
    POST_LOCALE = "post_locale"
    # modal input fields (the action_id inside is always ActionId.FIELD)
    TITLE = "title"
    OWNER = "owner"
    DUE = "due"
    START = "start"
    END = "end"
    CAMPAIGN = "campaign"
    GOAL = "goal"
    PARENT = "parent"
    METRIC = "metric"
    NEW_METRIC = "new_metric"
    TARGET = "target"
    BASELINE = "baseline"
    CHANNEL = "channel"
    CHANNELS = "channels"
    NAME = "name"
    BUDGET = "budget"
    AUDIENCE = "audience"
    THEME = "theme"
    TEXT = "text"
    SOURCE = "source"
    TAGS = "tags"
    REASON = "reason"
    VALUE = "value"
    CONFIDENCE = "confidence"
    NOTE = "note"
    CATEGORY = "category"
    SOURCE_MESSAGE = "source_message"  # context block showing the message a shortcut started from
    FILE = "file"
    PRESET = "preset"
    IMPORT_ACTIONS = "import_actions"


class CallbackId(StrEnum):
    TASK_MODAL = "task.modal"
    GOAL_MODAL = "goal.modal"
    CAMPAIGN_MODAL = "campaign.modal"
    FEEDBACK_MODAL = "feedback.modal"
    TASK_BLOCK_MODAL = "task.block_modal"
    GOAL_CHECKIN_MODAL = "goal.checkin_modal"
    RETRO_NOTE_MODAL = "retro.note_modal"
    KPI_IMPORT_MODAL = "kpi.import_modal"
    # message shortcuts (declared in manifest.json)
    TASK_FROM_MESSAGE = "task_from_message"
    FEEDBACK_FROM_MESSAGE = "feedback_from_message"


def record_block(prefix: BlockId, ref: str) -> str:
    """The block_id of a block that belongs to one record, e.g. record_block(TASK_ACTIONS, "T-12")."""
    return f"{prefix}{SEPARATOR}{ref}"


def split_record_block(block_id: str | None) -> tuple[str, str]:
    """("task_actions", "T-12") for "task_actions:T-12"; ("", "") for a block_id that is not ours."""
    prefix, sep, ref = (block_id or "").partition(SEPARATOR)
    return (prefix, ref) if sep else ("", "")
