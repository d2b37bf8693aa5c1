"""Every Chinese catalog text is punctuated and spaced as a Chinese marketer writes it.

- ASCII `, ; : ( )` never touch a Chinese character: Chinese writes ，；：（）.
- No space between two Chinese characters (or Chinese punctuation).
- One spacing style: no space between Chinese and a number, a Latin word or a placeholder (逾期{n}天, 最近记录{date}).
  A placeholder's value may itself be Chinese (a date, a channel, a status), so a space next to it would
  read as 最近记录 昨天. The exceptions are Slack's own: a space stays beside Slack markup (`code`, *bold*,
  _italic_, emoji codes, links) because Slack renders markup only at a word boundary, and beside a mention
  or a title the user typed ({actor}, {owner}, {title}), which Slack and the reader take as one unit. A `code`
  span (and a parse error's {value}, which is what the user typed in backticks) never touches a Chinese
  character: 请写 `下周一`, `下周` 是一整周.
- No English word outside code spans, options and references, bar an allow-list of acronyms and product names.
"""

from __future__ import annotations

import re

import pytest

from bot.i18n import EN, ZH_CN, catalog

HAN = "\u3400-\u9fff"
CJK = rf"{HAN}\u3000-\u303f\uff00-\uffef"
#: placeholders that stand for a Slack mention, markup or text the user typed: a space may stand beside them
SPACED_PLACEHOLDERS = {"actor", "owner", "user", "who", "by", "to", "arrow", "warn", "emoji", "marks", "bar", "title",
                       "before"}
#: placeholders a parse error fills with what the user typed, quoted as `code` (commands/grammar.py `_q`)
CODE_PLACEHOLDERS = {"value", "option", "text"}
CODE_IN = {("error.parse.option.same", "other"), ("error.parse.option.empty", "example"),
           ("error.parse.date.whole", "first"), ("error.parse.date.whole", "last")}
PLACEHOLDER = re.compile(r"\{([a-z_0-9]+)\}")
CODE = re.compile(r"`[^`\n]*`")
MARKUP = re.compile(r"<[^<>\n]+>|:[a-z0-9_+-]+:|https?://\S+|@[A-Za-z]\w*")
#: an option as typed (campaign:, due:fri) and a reference (T-12, K-{k})
OPTION = re.compile(r"(?<![A-Za-z])[a-z][a-z_-]*:[^\s，。、；）]*")
REF = re.compile(r"(?<![A-Za-z])[TGCFRKS]-(?:\d+|[§¶])")
#: a file extension (.xlsx) and a number with a unit as typed (200k, 30d)
TYPED = re.compile(r"\.[a-z]+(?![A-Za-z])|\d+[a-z]+(?![A-Za-z])")
#: in a usage block (shown as code), a command and whatever follows it on its line is syntax
COMMAND_LINE = re.compile(r"/(?:task|goal|kpi|campaign|feedback|retro|mkt)\b[^\n]*")
VALUE = "§"  # a number-like value: no space beside it next to Chinese
MARK = "¶"  # markup, a mention or a typed title: a space beside it is fine
CODE_MARK = "¤"  # a `code` span: Slack draws it only at a word boundary, so never glued to a Chinese character
ALLOWED = {"GMV", "ROI", "KPI", "CTR", "AOV", "CAC", "CPA", "CSAT", "SMART", "Slack", "ID", "URL", "CSV", "XLSX", "API",
           "IANA", "UTF", "GBK", "GB18030", "Excel", "GA4", "Google", "Ads", "JD", "Tmall", "Douyin", "mktbot", "Q4"}
#: texts that list what one may type (dates, numbers, times, metric names): syntax, not prose
SYNTAX_KEYS = ("usage.", "error.parse.hint.", "modal.number_hint", "modal.amount_hint", "modal.goal.metric_placeholder")

HALF_WIDTH = re.compile(rf"[{HAN}][(),:;]|[(),:;][{HAN}]|[{HAN}{MARK}{CODE_MARK}*_] \(|\) [{HAN}]")
SPACED = re.compile(rf"[{CJK}] +[{CJK}]")
LOOSE = re.compile(rf"[{HAN}] +[A-Za-z0-9{VALUE}¥$]|[A-Za-z0-9%{VALUE}] +[{HAN}]")
GLUED = re.compile(rf"[{HAN}]{CODE_MARK}|{CODE_MARK}[{HAN}]")
WORD = re.compile(r"[A-Za-z]+\d*")


def prose(text: str, key: str = "") -> str:
    """The text as the reader reads it around the holes: placeholders, code and markup replaced by a mark."""
    def hole(m: re.Match[str]) -> str:
        name = m.group(1)
        if (key.startswith("error.parse.") and name in CODE_PLACEHOLDERS) or (key, name) in CODE_IN:
            return CODE_MARK
        return MARK if name in SPACED_PLACEHOLDERS else VALUE

    text = CODE.sub(CODE_MARK, PLACEHOLDER.sub(hole, text))
    return MARKUP.sub(MARK, text)


def problems(key: str, text: str) -> list[str]:
    shown = prose(COMMAND_LINE.sub(MARK, text) if key.startswith("usage.") else text, key)
    found = [f"half-width {m!r}" for m in HALF_WIDTH.findall(shown)]
    found += [f"space between Chinese {m!r}" for m in SPACED.findall(shown)]
    found += [f"space beside Chinese {m!r}" for m in LOOSE.findall(shown)]
    found += [f"code glued to Chinese {m!r}" for m in GLUED.findall(shown)]
    if not key.startswith(SYNTAX_KEYS):
        words = WORD.findall(TYPED.sub(MARK, REF.sub(MARK, OPTION.sub(MARK, shown))))
        found += [f"English {w!r}" for w in words if w not in ALLOWED]
    return found


ZH_TEXTS = sorted(catalog(ZH_CN).items())


@pytest.mark.parametrize(("key", "text"), ZH_TEXTS, ids=[k for k, _ in ZH_TEXTS])
def test_chinese_text_is_written_as_chinese(key: str, text: str) -> None:
    assert problems(key, text) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("*渠道* 天猫, JD", ["half-width '猫,'"]),
    ("*收入* ({metric})", ["half-width '* ('"]),
    ("最近记录 {date}", ["space beside Chinese '录 §'"]),
    ("为 流量 × 转化率", ["space between Chinese '为 流'"]),
    ("来自 京东商城", ["space between Chinese '自 京'"]),
    ("已创建新指标K-{k} {name}（sum，越高越好）", ["English 'sum'"]),
    ("已添加 *{ref}* {title}：{n}条备注", []),
    ("不包括`{channel}`：请写 `{iso}`", ["code glued to Chinese '括¤'"]),
])
def test_the_checker_catches_what_a_reader_notices(text: str, expected: list[str]) -> None:
    assert problems("any.key", text) == expected


def test_a_parse_errors_typed_value_is_code_and_keeps_its_space() -> None:
    """{value} in a parse error is what the user typed, quoted in backticks: glued to Chinese, Slack shows the
    backticks instead of a code span."""
    assert problems("error.parse.date.unknown", "无法识别日期{value}，可以写{hint}") == [
        "code glued to Chinese '期¤'"]
    assert problems("error.parse.date.unknown", "无法识别日期 {value}，可以写{hint}") == []
    assert problems("error.parse.ref.zero", "编号从{first}开始") == []  # a reference, not code


@pytest.mark.parametrize(("locale", "expected"), [(ZH_CN, "11月22日 周日的异常KPI：gmv"), (EN, "Unusual KPIs on Sun, Nov 22: gmv")])
def test_the_alert_fallback_names_each_metric_once_on_a_written_date(locale: str, expected: str) -> None:
    """The alert lists one line per channel; its fallback text names each metric once, and the day in words."""
    from bot.render.digest import alert_reply
    from tests.unit.test_digest_render import TODAY, full
    from tests.unit.test_post_languages import with_alerts

    alert = alert_reply(with_alerts(full()).kpis, TODAY, locale)
    assert alert is not None and alert.text == expected
