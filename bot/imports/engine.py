"""Importing an export's KPI values: `preview` reads the whole file and says what an import would do (writing
nothing), `run_import` checks the same way, then writes chunk by chunk.

A file is wide (one row per day, or per day and channel, one column per metric: how 生意参谋, 京东商智, 巨量引擎,
GA4 and Google Ads export) or long (one row per day, channel, metric and value: columns such as 日期, 渠道,
指标, 数值). Values are written by `/kpi log`'s rule: one value per metric, channel and day, a new one replacing the
old; metrics are created on first use (by `define_metric`, with the aggregation `implicit_agg` gives their
unit), channels keep the spelling already stored, and a % metric stores fractions. A bad file is refused whole,
before anything is written, with the row and column of the first bad cell."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.imports import presets
from bot.imports.cells import by_unique, parse_dates, parse_numbers, texts, totals
from bot.imports.reader import CHUNK_ROWS, BadFile, Chunk, Reason, Table, open_table
from bot.imports.store import stored_values, upsert_values
from bot.metrics import MAX_AMOUNT, MIN_AMOUNT
from bot.services import channels
from bot.services.kpis import MetricSpec, check_amount, check_unit, check_value, define_metric, metric_key
from storage.db import Database
from storage.models import Metric
from storage.prepared import Unit
from storage.types import from_micros, utcnow

Progress = Callable[[int, int], None]  # (position, total) in the file's own units (bytes or rows)

#: how many replaced values and skipped rows a preview lists one by one (all are counted)
LISTED = 20
#: metric and channel names are stored in 100 characters
NAME_LIMIT = 100


@dataclass(frozen=True)
class Options:
    preset: str = "auto"
    channel: str | None = None  # the channel of every row (for a file without a channel column)
    chunk_rows: int = CHUNK_ROWS


@dataclass
class MetricColumn:
    name: str  # the metric's name as stored (or as it will be created)
    header: str  # the file's header ("" in a long file)
    unit: str | None
    new: bool
    values: int = 0


@dataclass(frozen=True)
class Replacement:
    metric: str
    channel: str
    day: date
    old: Decimal
    new: Decimal


@dataclass(frozen=True)
class Skipped:
    row: int
    reason: str  # a reader.Reason: English as a text, in_locale() in the reader's language


@dataclass
class Preview:
    file: str
    layout: str  # "wide" | "long"
    preset: str  # the preset's label, as the CLI prints it
    header_row: int
    preset_name: str = "generic"  # its name: `import.preset.<name>` says it in the reader's language
    rows_read: int = 0
    first_day: date | None = None
    last_day: date | None = None
    channels: list[str] = field(default_factory=list)
    metrics: list[MetricColumn] = field(default_factory=list)
    values: int = 0  # cells with a value, once per metric, channel and day
    new_values: int = 0
    replaced: int = 0
    unchanged: int = 0
    replacements: list[Replacement] = field(default_factory=list)  # the first LISTED
    skipped: list[Skipped] = field(default_factory=list)  # the first LISTED
    skipped_rows: int = 0
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        days = f"{self.first_day} … {self.last_day}" if self.first_day else "none"
        lines = [
            f"{self.file}: {self.layout} file, preset {self.preset}, header on row {self.header_row}",
            f"rows read: {self.rows_read:,}; skipped: {self.skipped_rows:,}",
            f"days: {days}",
            f"channels: {', '.join(c or '(none)' for c in self.channels) or 'none'}",
            "metrics: " + (", ".join(
                f"{m.name}{' [' + m.unit + ']' if m.unit else ''}{' (new)' if m.new else ''}"
                f"{' ← ' + m.header if m.header and m.header != m.name else ''}: {m.values:,}"
                for m in self.metrics) or "none"),
            f"values: {self.values:,} ({self.new_values:,} new, {self.replaced:,} replace a stored value, "
            f"{self.unchanged:,} unchanged)",
        ]
        lines += [f"  replaces {r.metric} {r.channel or '(no channel)'} {r.day}: {_fmt(r.old)} → {_fmt(r.new)}"
                  for r in self.replacements]
        if self.replaced > len(self.replacements):
            lines.append(f"  … and {self.replaced - len(self.replacements):,} more")
        lines += [f"  skipped row {s.row}: {s.reason}" for s in self.skipped]
        if self.skipped_rows > len(self.skipped):
            lines.append(f"  … and {self.skipped_rows - len(self.skipped):,} more skipped rows")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


@dataclass
class ImportResult:
    preview: Preview
    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0
    metrics_created: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.replaced)

    def render(self) -> str:
        if not self.changed:
            return f"Nothing changed: all {self.unchanged:,} values were already stored."
        created = f"; new metrics: {', '.join(self.metrics_created)}" if self.metrics_created else ""
        return (f"Imported {self.inserted + self.replaced:,} values: {self.inserted:,} new, {self.replaced:,} replaced, "
                f"{self.unchanged:,} unchanged{created}.")


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


# --------------------------------------------------------------------------- the file's columns


@dataclass
class _Column:
    index: int
    header: str
    name: str


@dataclass
class _Layout:
    table: Table
    preset: presets.Preset
    date: int
    channel: int | None
    metrics: list[_Column] | None = None  # wide: decided on the first chunk
    metric: int | None = None  # long: the metric-name and value columns
    value: int | None = None
    date_format: str | None = None
    notes: list[str] = field(default_factory=list)
    # with --channel, the file's own channel column: its cells must all name one channel, or they would be folded
    overridden: int | None = None
    seen_channels: dict[str, str] = field(default_factory=dict)  # channel key (京东 is JD) -> as written
    aliases: channels.AliasMap | None = None  # the workspace's channel names, read once

    @property
    def long(self) -> bool:
        return self.metric is not None


def _find(header: list[str], names: frozenset[str], skip: set[int]) -> int | None:
    for i, h in enumerate(header):
        if i not in skip and presets.header_key(h) in names:
            return i
    return None


def _layout(table: Table, options: Options) -> _Layout:
    header = table.header
    preset = presets.pick(options.preset, header)
    date_col = _find(header, presets.DATE_HEADERS, set())
    assert date_col is not None  # the reader found the header by its date column
    channel_col = _find(header, presets.CHANNEL_HEADERS, {date_col})
    layout = _Layout(table, preset, date_col, channel_col)
    if channel_col is not None and options.channel is not None:
        layout.notes.append(Reason("import.note.channel_column", column=header[channel_col],
                                   channel=options.channel))
        layout.channel, layout.overridden = None, channel_col
    taken = {date_col} | ({channel_col} if channel_col is not None else set())
    metric_col = _find(header, presets.METRIC_HEADERS, taken)
    value_col = _find(header, presets.VALUE_HEADERS, taken | ({metric_col} if metric_col is not None else set()))
    if metric_col is not None and value_col is not None:
        layout.metric, layout.value = metric_col, value_col
    return layout


def _wide_columns(layout: _Layout, frame: pd.DataFrame, data: np.ndarray) -> list[_Column]:
    """The metric columns: every column but the date and channel whose cells (in the first chunk's data rows)
    are all numbers, named by the preset or by their own header."""
    header = layout.table.header
    columns: list[_Column] = []
    used: dict[str, str] = {}
    for i, h in enumerate(header):
        if i in (layout.date, layout.channel, layout.overridden) or i >= frame.shape[1]:
            continue
        if not h:
            continue
        known = presets.metric_for(layout.preset, h)
        if presets.is_ratio(layout.preset, h) and known is None:
            layout.notes.append(Reason("import.note.ratio_column", column=h))
            continue
        if known is None and presets.header_key(h).endswith(presets.IGNORED_SUFFIXES):
            layout.notes.append(Reason("import.note.identifier_column", column=h))
            continue
        numbers = parse_numbers(frame[i][data])
        if known is None and (numbers.bad.any() or np.isnan(numbers.values).all()):
            why = "import.note.text_column" if numbers.bad.any() else "import.note.empty_column"
            layout.notes.append(Reason(why, column=h))
            continue
        name = known or " ".join(h.split())
        key = metric_key(name)
        if key in used:
            layout.notes.append(Reason("import.note.same_metric", column=h, other=used[key], metric=name))
            continue
        used[key] = h
        columns.append(_Column(i, h, name))
    return columns


# --------------------------------------------------------------------------- reading values


@dataclass
class _Values:
    """One chunk's values, one row per metric, channel and day (the last of repeated ones)."""

    frame: pd.DataFrame  # name, header, channel, day, value (float, % as a fraction), percent, currency, row
    rows: int
    skipped: list[Skipped]
    repeated: int


def _chunk_values(layout: _Layout, chunk: Chunk, options: Options) -> _Values:
    frame = chunk.frame
    header = layout.table.header
    row_numbers = np.arange(len(frame)) + chunk.first_row
    date_text = texts(frame[layout.date])
    days, layout.date_format = parse_dates(frame[layout.date], layout.date_format)
    dated = days.notna().to_numpy()
    channel_text = texts(frame[layout.channel]) if layout.channel is not None else None
    total = totals(date_text)
    if channel_text is not None:
        total |= totals(channel_text)
    if layout.date != 0:
        total |= totals(frame[0])

    if layout.long:
        assert layout.metric is not None and layout.value is not None
        parsed = {layout.value: parse_numbers(frame[layout.value])}
        columns = [_Column(layout.value, header[layout.value], "")]
    else:
        if layout.metrics is None:
            layout.metrics = _wide_columns(layout, frame, dated & ~total)
        columns = layout.metrics
        parsed = {c.index: parse_numbers(frame[c.index]) for c in columns}
    has_value = np.zeros(len(frame), dtype=bool)
    for numbers in parsed.values():
        has_value |= ~np.isnan(numbers.values) | numbers.bad

    skipped: list[Skipped] = []
    empty = ~has_value & date_text.eq("").to_numpy()
    if channel_text is not None:
        empty &= channel_text.eq("").to_numpy()
    ratio = np.zeros(len(frame), dtype=bool)
    if layout.long:
        assert layout.metric is not None
        preset = layout.preset
        ratio = by_unique(frame[layout.metric], lambda u: [
            presets.is_ratio(preset, n) and presets.metric_for(preset, n) is None for n in u
        ]).astype(bool) & has_value & ~total
    reasons = (
        (empty, Reason("import.skip.empty_row")),
        (total & ~empty, Reason("import.skip.totals_row")),
        (~has_value & ~total & ~empty, Reason("import.skip.no_values")),
        (ratio, Reason("import.skip.ratio")),
    )
    skip = np.zeros(len(frame), dtype=bool)
    for mask, reason in reasons:
        skip |= mask
        skipped += [Skipped(int(r), reason) for r in row_numbers[mask]]
    skipped.sort(key=lambda s: s.row)

    undated = ~skip & ~dated
    if undated.any():
        i = int(np.argmax(undated))
        text = date_text.iloc[i]
        raise BadFile(Reason("import.reason.not_a_date", value=text) if text
                      else Reason("import.reason.no_date"), row=int(row_numbers[i]), column=header[layout.date])
    keep = ~skip
    for c in columns:
        bad = parsed[c.index].bad & keep
        if bad.any():
            i = int(np.argmax(bad))
            cell = str(frame[c.index].iloc[i]).strip()
            raise BadFile(Reason("import.reason.not_a_number", value=cell), row=int(row_numbers[i]),
                          column=c.header)

    if options.channel is not None:
        if layout.overridden is not None:  # one channel named in the file may be renamed; several are never merged
            for cell in texts(frame[layout.overridden])[keep].unique():
                name = " ".join(str(cell).split())
                if name:
                    root = layout.aliases.root(channels.key(name)) if layout.aliases else channels.key(name)
                    layout.seen_channels.setdefault(root, name)
            if len(layout.seen_channels) > 1:
                names = list(layout.seen_channels.values())
                raise BadFile(Reason("import.reason.several_channels", column=header[layout.overridden],
                                     channels=", ".join(names[:5]), channel=options.channel))
        channel = pd.Series(" ".join(options.channel.split()), index=frame.index)
    elif channel_text is not None:
        channel = pd.Series(by_unique(channel_text, lambda u: u.str.split().str.join(" ")), index=frame.index)
    else:
        channel = pd.Series("", index=frame.index)

    parts = []
    for c in columns:
        numbers = parsed[c.index]
        mask = keep & ~np.isnan(numbers.values)
        if not mask.any():
            continue
        if layout.long:
            assert layout.metric is not None
            names = texts(frame[layout.metric])[mask]
            unnamed = names.eq("").to_numpy()
            if unnamed.any():
                raise BadFile(Reason("import.reason.no_metric_name"), row=int(row_numbers[mask][np.argmax(unnamed)]),
                              column=header[layout.metric])
            known = by_unique(names, lambda u: [presets.metric_for(layout.preset, n) or " ".join(n.split()) for n in u])
            name_values, header_values = known, names.to_numpy()
        else:
            name_values, header_values = np.full(int(mask.sum()), c.name, dtype=object), c.header
        parts.append(pd.DataFrame({
            "name": name_values, "header": header_values, "channel": channel[mask].to_numpy(),
            "day": days[mask].to_numpy(), "value": numbers.values[mask], "percent": numbers.percent[mask],
            "currency": numbers.currency[mask].to_numpy(), "row": row_numbers[mask],
        }))
    values = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["name", "header", "channel", "day", "value", "percent", "currency", "row"]
    )
    before = len(values)
    values = values.drop_duplicates(subset=["name", "channel", "day"], keep="last")
    return _Values(values, len(frame), skipped, before - len(values))


# --------------------------------------------------------------------------- metrics and channels


@dataclass
class _Metric:
    name: str
    header: str
    id: int | None
    unit: str | None
    typed: set[str] = field(default_factory=set)  # units typed in its cells: "%", "¥", …
    first_row: dict[str, int] = field(default_factory=dict)
    values: int = 0


class _Names:
    """The workspace's metrics and channels as the file names them, looked up once each."""

    def __init__(self, workspace_id: str) -> None:
        self.workspace_id = workspace_id
        self.metrics: dict[str, _Metric] = {}  # by metric key
        self.channels: dict[str, str] = {}  # a channel's key (channels.AliasMap.root) -> stored spelling
        self.aliases: channels.AliasMap | None = None

    def metric(self, unit: Unit, name: str, header: str) -> _Metric:
        key = metric_key(name)
        found = self.metrics.get(key)
        if found is not None:
            return found
        if len(name) > NAME_LIMIT:
            raise BadFile(Reason("import.reason.metric_too_long", limit=NAME_LIMIT), column=header or name[:40])
        assert isinstance(unit, Session)  # the check reads every metric before the import writes
        row = unit.execute(
            select(Metric.id, Metric.name, Metric.unit, Metric.numerator_id)
            .where(Metric.workspace_id == self.workspace_id, Metric.key == key)
        ).first()
        if row is not None and row.numerator_id is not None:
            raise BadFile(Reason("import.reason.ratio_metric", metric=row.name), column=header or name)
        metric = (_Metric(row.name, header, int(row.id), row.unit) if row is not None
                  else _Metric(" ".join(name.split()), header, None, None))
        self.metrics[key] = metric
        return metric

    def channel(self, unit: Unit, spelling: str) -> str:
        """The stored spelling of the file's channel: 京东 and JD in one file are one channel, under the spelling
        first logged, else the one the file names first."""
        if self.aliases is None:
            self.aliases = channels.alias_map(unit, workspace_id=self.workspace_id)
        root = self.aliases.root(channels.key(spelling))
        found = self.channels.get(root)
        if found is None:
            if len(spelling) > NAME_LIMIT:
                raise BadFile(Reason("import.reason.channel_too_long", channel=spelling[:40],
                                     limit=NAME_LIMIT))
            found = self.channels[root] = channels.resolve(unit, workspace_id=self.workspace_id, channel=spelling)
        return found

    def new_unit(self, metric: _Metric) -> str | None:
        if len(metric.typed) > 1:
            first = sorted(metric.first_row.items(), key=lambda kv: kv[1])
            raise BadFile(Reason("import.reason.two_units", metric=metric.name, first=first[0][0], second=first[1][0]),
                          row=first[1][1], column=metric.header or metric.name)
        return next(iter(metric.typed), None)


def _resolve(unit: Unit, names: _Names, values: pd.DataFrame) -> pd.DataFrame:
    """The chunk with the stored channel spelling, the metric's id (-1 for a new one) and micro-units; the
    units typed are checked against the metrics'."""
    if values.empty:
        return values.assign(metric_id=pd.Series(dtype="int64"), micros=pd.Series(dtype="int64"))
    channel_codes, channel_uniques = pd.factorize(values["channel"])
    stored = [names.channel(unit, c) for c in channel_uniques]
    values = values.assign(channel=np.array(stored, dtype=object)[channel_codes])
    if len(set(stored)) < len(stored):  # two names of one channel (京东, JD) on one day: the later row wins
        values = values.drop_duplicates(subset=["name", "channel", "day"], keep="last")
    codes, uniques = pd.factorize(values["name"])
    _, first = np.unique(codes, return_index=True)
    headers = values["header"].to_numpy()[first]
    found = [names.metric(unit, str(n), str(h)) for n, h in zip(uniques, headers, strict=True)]
    for metric, count in zip(found, np.bincount(codes, minlength=len(found)), strict=True):
        metric.values += int(count)
    ids = np.array([m.id if m.id is not None else -1 for m in found], dtype="int64")[codes]
    percent = values["percent"].to_numpy(dtype=bool)
    currency = values["currency"]
    typed = percent | currency.notna().to_numpy()
    if typed.any():
        units = pd.DataFrame({
            "code": codes[typed], "unit": np.where(percent[typed], "%", currency.to_numpy()[typed]),
            "row": values["row"].to_numpy()[typed],
        }).drop_duplicates(["code", "unit"])
        for code, typed_unit, row in units.itertuples(index=False):
            metric = found[code]
            metric.first_row.setdefault(typed_unit, int(row))
            if metric.id is not None:
                try:
                    check_unit(metric.name, metric.unit, percent=typed_unit == "%",
                               currency=None if typed_unit == "%" else typed_unit)
                except UserError as exc:
                    reason = Reason.of(exc.msg) if exc.msg is not None else exc.message
                    raise BadFile(reason, row=int(row), column=metric.header or metric.name) from None
            metric.typed.add(typed_unit)
    below_zero = np.flatnonzero(values["value"].to_numpy() < 0)
    if below_zero.size:  # a count below zero is refused as /kpi log refuses it (its first such row is named)
        _, first_below = np.unique(codes[below_zero], return_index=True)
        for i in below_zero[first_below]:
            metric = found[codes[i]]
            try:
                check_value(metric.name, Decimal(str(values["value"].to_numpy()[i])))
            except UserError as exc:
                raise BadFile(exc.message, row=int(values["row"].to_numpy()[i]),
                              column=metric.header or metric.name) from None
    # a bare number on a % metric is read as percentage points, as /kpi log reads it
    on_percent = np.array([m.unit == "%" for m in found], dtype=bool)[codes]
    scale = np.where(on_percent & ~percent, 0.01, 1.0)
    stored = values["value"].to_numpy() * scale
    magnitude = np.abs(stored)
    unfit = np.flatnonzero((magnitude > float(MAX_AMOUNT)) | ((magnitude > 0) & (magnitude < float(MIN_AMOUNT))))
    if unfit.size:  # too large for storage, or so small it would be stored as 0: refused as /kpi log refuses it
        i = int(unfit[0])
        metric = found[codes[i]]
        try:
            check_amount(Decimal(repr(float(stored[i]))), name=metric.name, percent=bool(on_percent[i]))
        except UserError as exc:
            raise BadFile(exc.message, row=int(values["row"].to_numpy()[i]),
                          column=metric.header or metric.name) from None
    micros = np.rint(stored * 1_000_000).astype("int64")
    return values.assign(metric_id=ids, micros=micros)


def _compare(stored: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """`values` with `old`: the micro-units stored for the same metric, channel and day (NaN where none)."""
    return values.merge(stored, on=["metric_id", "channel", "day"], how="left")


# --------------------------------------------------------------------------- preview and import


def _layout_in(db: Database, workspace_id: str, table: Table, options: Options) -> _Layout:
    """The file's layout, with the workspace's channel names when a given channel overrides the file's column."""
    layout = _layout(table, options)
    if layout.overridden is not None:
        with db.session(write=False) as session:
            layout.aliases = channels.alias_map(session, workspace_id=workspace_id)
    return layout


def _scan(
    db: Database, workspace_id: str, table: Table, options: Options, progress: Progress | None,
) -> tuple[Preview, _Names]:
    layout = _layout_in(db, workspace_id, table, options)
    preview = Preview(file=table.path.name, layout="long" if layout.long else "wide", preset=layout.preset.label,
                      header_row=table.header_row, preset_name=layout.preset.name)
    names = _Names(workspace_id)
    channels: dict[str, None] = {}
    repeated = 0
    for chunk in table.chunks(options.chunk_rows):
        values = _chunk_values(layout, chunk, options)
        preview.rows_read += values.rows
        preview.skipped_rows += len(values.skipped)
        preview.skipped += values.skipped[: max(0, LISTED - len(preview.skipped))]
        repeated += values.repeated
        frame = values.frame
        if not frame.empty:
            with db.session(write=False) as session:
                frame = _resolve(session, names, frame)
                existing = frame[frame["metric_id"] >= 0]
                compared = existing.iloc[0:0].assign(old=pd.Series(dtype="float64"))
                if not existing.empty:
                    first, last = existing["day"].min().date(), existing["day"].max().date()
                    compared = _compare(stored_values(session, workspace_id=workspace_id, first=first, last=last),
                                        existing)
            preview.values += len(frame)
            old = compared["old"]
            replaced = compared[old.notna() & old.ne(compared["micros"])]
            preview.replaced += len(replaced)
            preview.unchanged += int((old.notna() & old.eq(compared["micros"])).sum())
            for r in replaced.head(max(0, LISTED - len(preview.replacements))).itertuples():
                preview.replacements.append(Replacement(
                    str(r.name), str(r.channel), r.day.date(), from_micros(int(r.old)), from_micros(int(r.micros))
                ))
            first_day, last_day = frame["day"].min().date(), frame["day"].max().date()
            preview.first_day = min(preview.first_day or first_day, first_day)
            preview.last_day = max(preview.last_day or last_day, last_day)
            channels.update(dict.fromkeys(frame["channel"].unique().tolist()))
        if progress is not None:
            progress(min(chunk.position, table.size), table.size)
    if progress is not None:
        progress(table.size, table.size)
    preview.new_values = preview.values - preview.replaced - preview.unchanged
    preview.channels = sorted(channels)
    if layout.metrics is not None and not layout.metrics:
        raise BadFile(Reason("import.reason.no_metrics"))
    for metric in names.metrics.values():
        unit = metric.unit if metric.id is not None else names.new_unit(metric)
        preview.metrics.append(MetricColumn(metric.name, metric.header, unit, metric.id is None, metric.values))
    preview.notes = layout.notes + ([Reason("import.note.repeated", n=f"{repeated:,}")] if repeated else [])
    return preview, names


def preview(
    db: Database, *, workspace_id: str, path: Path, options: Options = Options(), progress: Progress | None = None,
) -> Preview:
    """What importing `path` would do, compared with what is stored; raises BadFile, writes nothing."""
    return _scan(db, workspace_id, open_table(path), options, progress)[0]


def run_import(
    db: Database, *, workspace_id: str, path: Path, options: Options = Options(), user_id: str | None = None,
    checked: Progress | None = None, written: Progress | None = None,
) -> ImportResult:
    """Check the whole file (as `preview`), then write it a chunk per transaction. Re-importing the same file
    writes nothing. `checked` and `written` report the progress of the two passes."""
    table = open_table(path)
    checked_preview, names = _scan(db, workspace_id, table, options, checked)
    result = ImportResult(checked_preview)
    new = [m for m in names.metrics.values() if m.id is None]
    if new:
        with db.session() as session:
            for metric in new:
                defined = define_metric(session, workspace_id=workspace_id, user_id=user_id,
                                        spec=MetricSpec(metric.name, unit=names.new_unit(metric)))
                metric.id, metric.unit = defined.metric.id, defined.metric.unit
                result.metrics_created.append(defined.metric.name)
    layout = _layout_in(db, workspace_id, table, options)
    for values in _written_chunks(layout, table, options, written):
        if values.frame.empty:
            continue
        with db.transaction() as tx:
            frame = _resolve(tx, names, values.frame)
            first, last = frame["day"].min().date(), frame["day"].max().date()
            compared = _compare(stored_values(tx, workspace_id=workspace_id, first=first, last=last), frame)
            old = compared["old"]
            same = old.notna() & old.eq(compared["micros"])
            changed = compared[~same]
            result.unchanged += int(same.sum())
            result.replaced += int(old.notna().sum()) - int(same.sum())
            result.inserted += int(old.isna().sum())
            upsert_values(
                tx, workspace_id=workspace_id, metric_ids=changed["metric_id"].to_numpy(),
                channels=changed["channel"].tolist(), days=changed["day"], micros=changed["micros"].to_numpy(),
                user_id=user_id, now=utcnow(),
            )
    return result


def _written_chunks(layout: _Layout, table: Table, options: Options, progress: Progress | None) -> Iterator[_Values]:
    for chunk in table.chunks(options.chunk_rows):
        yield _chunk_values(layout, chunk, options)
        if progress is not None:
            progress(min(chunk.position, table.size), table.size)
    if progress is not None:
        progress(table.size, table.size)
