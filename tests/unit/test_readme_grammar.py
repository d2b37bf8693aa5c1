"""The README's grammar block (under "## Using it") lists exactly the forms the bot's own usage replies list,
command by command and in order: both come from each command's `CommandDoc`, so they cannot drift apart.
The README may put several short forms on one line; each form starts with its command's name."""

from __future__ import annotations

import re
from pathlib import Path

from commands import COMMANDS
from commands.base import forms_of
from commands.mkt import DOCS

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_grammar_lines() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Using it\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"^```\n(.*?)^```$", section, re.DOTALL | re.MULTILINE)
    assert block, "no fenced grammar block under ## Using it"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_every_readme_line_is_a_known_command() -> None:
    for line in readme_grammar_lines():
        assert line.split()[0] in COMMANDS, line


def test_readme_grammar_lists_each_commands_forms_in_order() -> None:
    readme = [form for line in readme_grammar_lines() for form in forms_of(line.split()[0], [line])]
    assert readme == [form for doc in DOCS for form in doc.each_form()]


def test_mkt_help_lists_every_command_once() -> None:
    assert [doc.name for doc in DOCS] == list(COMMANDS)
