"""User-facing strings in English and Simplified Chinese: one JSON catalog per language, and `t()`.

Catalogs are flat `{"key": "text with {placeholders}"}` files next to this module (`en.json`, `zh_CN.json`).
A key missing from a catalog falls back to English; a key missing from English is a bug (KeyError).
Plurals: `tn("tasks", n, locale)` looks up `tasks.one` when n == 1, else `tasks.other`.
A text whose reader is not known yet (an error raised deep in a parser) is a `Msg`: a key and its parameters,
rendered later in the reader's language.
Numbers, dates and people in the reader's language: `bot.i18n.fmt`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

EN = "en"
ZH_CN = "zh_CN"
LOCALES = (EN, ZH_CN)
DEFAULT_LOCALE = EN

CATALOG_DIR = Path(__file__).resolve().parent


@cache
def catalog(locale: str) -> dict[str, str]:
    path = CATALOG_DIR / f"{locale}.json"
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def normalize(tag: str | None) -> str | None:
    """Slack's locale tag ("zh-CN", "en-US", …) → one of LOCALES, or None when we don't speak it."""
    if not tag:
        return None
    lowered = tag.replace("_", "-").lower()
    if lowered == "zh" or lowered.startswith("zh-"):
        # zh-TW, zh-HK, zh-Hant read Simplified Chinese far more easily than English: the closest we have
        return ZH_CN
    if lowered == "en" or lowered.startswith("en-"):
        return EN
    return None


def resolve(locale: str | None) -> str:
    return locale if locale in LOCALES else (normalize(locale) or DEFAULT_LOCALE)


def t(key: str, locale: str | None = None, /, **kwargs: Any) -> str:
    """The text for `key` in `locale` (English when the locale or the key is missing), formatted with kwargs."""
    loc = resolve(locale)
    template = catalog(loc).get(key)
    if template is None:
        template = catalog(EN)[key]
    return template.format(**kwargs) if kwargs else template


def tn(key: str, count: int, locale: str | None = None, /, **kwargs: Any) -> str:
    """A counted phrase: `key.one` for exactly one, else `key.other`; `{n}` is the count."""
    loc = resolve(locale)
    chosen = f"{key}.other"
    if count == 1 and f"{key}.one" in catalog(loc):  # languages without a singular form (Chinese) have only .other
        chosen = f"{key}.one"
    return t(chosen, loc, n=count, **kwargs)


def has_key(key: str, locale: str) -> bool:
    return key in catalog(resolve(locale))


# ---- texts rendered later --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Msg:
    """A catalog key and its parameters, rendered in whichever language the reader turns out to speak.

    A parameter may itself be a `Msg` (rendered in the same language) or a list or tuple (its items
    rendered and joined with the language's `list.separator`); anything else is formatted as it is.
    """

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, locale: str | None = None) -> str:
        loc = resolve(locale)
        return t(self.key, loc, **{name: _rendered(value, loc) for name, value in self.params.items()})

    def __str__(self) -> str:
        return self.render(EN)


def msg(key: str, /, **params: Any) -> Msg:
    """`msg("error.parse.date.unknown", value="`soonish`")`: the text for `key`, rendered later with `.render(locale)`."""
    return Msg(key, params)


def _rendered(value: Any, locale: str) -> Any:
    if isinstance(value, Msg):
        return value.render(locale)
    if isinstance(value, list | tuple):
        return t("list.separator", locale).join(str(_rendered(item, locale)) for item in value)
    return value
