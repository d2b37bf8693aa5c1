"""What a post in one language must not contain: English sentences in a Chinese post, Chinese in an English one.

Both checks first take out what is not the bot's own wording: code spans (`/kpi log …`), Slack
markup (<@U…>, <#C…>, links), emoji codes, refs (T-3, G-1, K-2), and the user-typed names the caller lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CODE = re.compile(r"`[^`\n]+`")  # commands and arguments; a ```table``` is the bot's text, and is checked
MARKUP = re.compile(r"<[^<>\n]+>|:[a-z0-9_+-]+:")
REF = re.compile(r"\b[TGCRK]-\d+\b")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
HAN = "\u3400-\u9fff"
#: two or more ASCII words in a row: an English phrase (a single word may be a name, a code or an acronym: KPI, ROI)
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ \t]+[A-Za-z][A-Za-z'’]*){1,}")
#: a space between two Chinese words, bar the one between a date and its weekday ("11月23日 周一")
SPACED = re.compile(rf"[{HAN}] [{HAN}]")  # one space: a table aligns its columns with several
WEEKDAY_DATE = re.compile(r"\d+月\d+日 (?=周[一二三四五六日])|周[一二三四五六日] (?=\d+月)")
#: ASCII punctuation touching Chinese text, where Chinese writes （）：，；。
HALF_WIDTH = re.compile(rf"[{HAN}][(),:;]|[(,:;][{HAN}]|[{HAN}] \(|\) [{HAN}]")


HOLE = "§"  # what stands where something was taken out: neither a word nor Chinese


def own_words(text: str, names: Iterable[str] = ()) -> str:
    """The text without code, markup, refs and the given user-typed names (longest first)."""
    text = CODE.sub(HOLE, text.replace("```", HOLE))
    text = MARKUP.sub(HOLE, text)
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, HOLE)
    return REF.sub(HOLE, text)


def not_chinese(text: str, names: Iterable[str] = ()) -> list[str]:
    """What in a Chinese post is not written as Chinese: English phrases, spaced words, ASCII punctuation."""
    own = own_words(text, names)
    problems = [f"English: {m!r}" for m in ENGLISH_RUN.findall(own)]
    dated = WEEKDAY_DATE.sub("", own)
    problems += [f"spaced: {m!r}" for m in SPACED.findall(dated)]
    problems += [f"half-width: {m!r}" for m in HALF_WIDTH.findall(own)]
    return problems


def not_english(text: str, names: Iterable[str] = ()) -> list[str]:
    """Chinese characters or punctuation in an English post, user-typed names aside."""
    return [f"Chinese: {m!r}" for m in CJK.findall(own_words(text, names))]
