"""POST /api/v1/kpis: a batch of items checked whole (every refused item says why), then written in one
transaction by `/kpi log`'s service, so a batch is stored entirely or not at all."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import metrics
from bot.api.openapi import MAX_ITEMS, MAX_VALUES
from bot.errors import UserError
from bot.imports.cells import parse_number
from bot.services import kpis
from storage.models import Metric
from storage.types import QUANTUM

#: |value| beyond this is refused, as /kpi log refuses it (bot.metrics.MAX_AMOUNT)
MAX_ABS_VALUE = metrics.MAX_AMOUNT


@dataclass
class Refusal:
    item: int | None
    field: str
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"item": self.item, "field": self.field, "reason": self.reason}


class Refused(Exception):
    def __init__(self, refusals: list[Refusal]) -> None:
        super().__init__(f"{len(refusals)} refused")
        self.refusals = refusals


@dataclass
class Item:
    index: int
    day: date
    channel: str
    entries: list[kpis.Entry] = field(default_factory=list)


@dataclass
class Result:
    values: int = 0
    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0
    metrics_created: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"values": self.values, "inserted": self.inserted, "replaced": self.replaced,
                "unchanged": self.unchanged, "metrics_created": self.metrics_created}


def _name(value: str) -> str:
    return " ".join(value.split())


def _printable(value: str) -> bool:
    return not any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") for c in value)


def _value(raw: Any) -> kpis.Entry | str:
    """An Entry without its name, or why the value is refused."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return 'a value is a number or a string such as "12,500", "1.2万", "¥12,500" or "15.3%"'
    if isinstance(raw, float) and not math.isfinite(raw):
        return "not a finite number"
    if isinstance(raw, str):
        try:
            number = parse_number(raw)
        except ValueError:
            return f"{raw[:40]!r} is not a number"
        if number is None:
            return "no value"
        entry = kpis.Entry("", number.value, number.percent, number.currency)
    else:
        entry = kpis.Entry("", Decimal(str(raw)) if isinstance(raw, float) else Decimal(raw))
    fits = metrics.amount_fits(entry.value)
    if fits == "large":
        return "too large: at most 1,000,000,000,000 either way"
    if fits == "small":
        return "too small: below 0.000001 (apart from 0) it would be stored as 0"
    return entry


def parse_batch(body: Any) -> tuple[list[Item], list[Refusal]]:
    """The batch's items (those that could be read) and a reason for every refused item and field; Refused when
    the body itself is not a batch."""
    refusals: list[Refusal] = []
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise Refused([Refusal(None, "items", "the body is {\"items\": [...]}")])
    extra = sorted(set(body) - {"items"})
    if extra:
        raise Refused([Refusal(None, extra[0], "unknown field (the body is {\"items\": [...]})")])
    raw_items = body["items"]
    if not raw_items:
        raise Refused([Refusal(None, "items", "no items")])
    if len(raw_items) > MAX_ITEMS:
        raise Refused([Refusal(None, "items", f"at most {MAX_ITEMS:,} items per request")])
    items: list[Item] = []
    seen: dict[tuple[str, str, date], int] = {}
    for index, raw in enumerate(raw_items):
        def refuse(field_: str, reason: str, index: int = index) -> None:
            refusals.append(Refusal(index, field_, reason))

        if not isinstance(raw, dict):
            refuse("", "an item is an object with date, channel and values")
            continue
        day: date | None = None
        text = raw.get("date")
        try:
            day = date.fromisoformat(text) if isinstance(text, str) and len(text) == 10 else None
        except ValueError:
            day = None
        if day is None:
            refuse("date", "a date is YYYY-MM-DD")
        channel = raw.get("channel", "")
        if channel is None:
            channel = ""
        if not isinstance(channel, str):
            refuse("channel", "a channel is a string")
            channel = ""
        channel = _name(channel)
        if len(channel) > 100 or not _printable(channel):
            refuse("channel", "a channel is at most 100 printable characters")
        values = raw.get("values")
        if not isinstance(values, dict) or not values:
            refuse("values", "values is an object of metric names and values, e.g. {\"gmv\": 12500}")
            continue
        if len(values) > MAX_VALUES:
            refuse("values", f"at most {MAX_VALUES} values per item")
            continue
        unknown = sorted(set(raw) - {"date", "channel", "values"})
        if unknown:
            refuse(unknown[0], "unknown field (an item has date, channel and values)")
        item = Item(index, day or date.min, channel)
        keys: set[str] = set()
        for key, raw_value in values.items():
            name = _name(key)
            where = f"values.{key}"
            if not name or len(name) > 100 or not _printable(name):
                refuse(where, "a metric name is 1 to 100 printable characters")
                continue
            if kpis.metric_key(name) in keys:
                refuse(where, f"{name} is given twice")
                continue
            keys.add(kpis.metric_key(name))
            entry = _value(raw_value)
            if isinstance(entry, str):
                refuse(where, entry)
                continue
            item.entries.append(kpis.Entry(name, entry.value, entry.percent, entry.currency))
            if day is not None:
                at = (kpis.metric_key(name), channel.lower(), day)
                if at in seen:
                    refuse(where, f"item {seen[at]} already gives {name} for this channel and day")
                seen.setdefault(at, index)
        items.append(item)
    return items, refusals


def check_metrics(session: Session, *, workspace_id: str, items: list[Item]) -> list[Refusal]:
    """Refuse values for ratio metrics and values typed in another unit than their metric's, before writing."""
    keys = {kpis.metric_key(e.name) for item in items for e in item.entries}
    known = {
        m.key: m for m in session.scalars(select(Metric).where(Metric.workspace_id == workspace_id, Metric.key.in_(keys)))
    } if keys else {}
    refusals: list[Refusal] = []
    for item in items:
        for entry in item.entries:
            metric = known.get(kpis.metric_key(entry.name))
            if metric is None:
                continue
            where = f"values.{entry.name}"
            if metric.is_ratio:
                refusals.append(Refusal(item.index, where, f"{metric.name} is a ratio of two metrics: send its parts"))
                continue
            try:
                kpis.check_unit(metric.name, metric.unit, percent=entry.percent, currency=entry.currency)
            except UserError as exc:
                refusals.append(Refusal(item.index, where, exc.message))
    return refusals


def write(session: Session, *, workspace_id: str, items: list[Item]) -> Result:
    """Every item by kpis.log_values in the caller's transaction; a UserError refuses the whole batch."""
    result = Result()
    for item in items:
        try:
            logged = kpis.log_values(session, workspace_id=workspace_id, entries=item.entries, channel=item.channel,
                                     day=item.day, user_id=None)
        except UserError as exc:
            raise Refused([Refusal(item.index, "values", exc.message)]) from None
        for value in logged:
            result.values += 1
            if value.metric_created:
                result.metrics_created.append(value.metric.name)
            if value.previous is None:
                result.inserted += 1
            elif value.previous == value.value.quantize(QUANTUM):
                result.unchanged += 1
            else:
                result.replaced += 1
    return result
