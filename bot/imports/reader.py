"""Opening an export: its encoding and delimiter (CSV) or sheet (XLSX), the header row past any preamble, and
its data rows in chunks of strings (bounded memory: a chunk at a time, never the whole file)."""

from __future__ import annotations

import codecs
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bot.i18n import EN, Msg
from bot.imports.presets import DATE_HEADERS, header_key

#: the header is looked for among the first rows
HEADER_SEARCH_ROWS = 40
#: rows per chunk: about 10-50 MB of strings for a wide export
CHUNK_ROWS = 50_000
_SAMPLE_BYTES = 256 * 1024
#: the widest file read
MAX_COLUMNS = 512


class Reason(str):
    """Why a file, a row or a column is refused or skipped: as a `str` the English text (what the CLI prints),
    and `in_locale(reason, locale)` the same in the reader's language (a catalog key and its parameters)."""

    msg: Msg

    def __new__(cls, key: str, /, **params: Any) -> Reason:
        said = Msg(key, params)
        made = super().__new__(cls, said.render(EN))
        made.msg = said
        return made

    @classmethod
    def of(cls, said: Msg) -> Reason:
        return cls(said.key, **said.params)


def in_locale(reason: str, locale: str | None) -> str:
    """A reason in `locale`: a `Reason` from the catalog; any other text as it is."""
    return reason.msg.render(locale) if isinstance(reason, Reason) else reason


class BadFile(Exception):
    """A file that cannot be imported as it is; nothing of it is written. `row` is the file's own row number
    (1 is the first line, as a spreadsheet shows it) and `column` the header of the cell, when there is one.
    `reason` is a `Reason`: English as a text, and `in_locale(exc.reason, locale)` in the reader's language."""

    def __init__(self, reason: str, *, row: int | None = None, column: str | None = None) -> None:
        where = ", ".join(part for part in (
            f"row {row}" if row is not None else "", f"column {column!r}" if column is not None else "",
        ) if part)
        super().__init__(f"{where}: {reason}" if where else reason)
        self.reason = reason
        self.row = row
        self.column = column


@dataclass(frozen=True)
class Chunk:
    first_row: int  # the file's row number of the chunk's first row
    frame: pd.DataFrame  # columns 0..n-1 as in the header, every cell a str
    position: int  # progress: bytes read (CSV) or rows read (XLSX)


@dataclass
class Table:
    path: Path
    kind: str  # "csv" | "xlsx"
    header: list[str]
    header_row: int  # the file's row number of the header
    size: int  # bytes (CSV) or rows (XLSX): what `Chunk.position` counts towards
    encoding: str | None = None
    delimiter: str = ","
    sheet: str | None = None
    width: int = 0

    def chunks(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
        if self.kind == "xlsx":
            yield from _xlsx_chunks(self, chunk_rows)
        else:
            yield from _csv_chunks(self, chunk_rows)


def is_header(cells: list[str]) -> bool:
    filled = [c for c in cells if c.strip()]
    return len(filled) >= 2 and any(header_key(c) in DATE_HEADERS for c in filled)


def open_table(path: Path) -> Table:
    if not path.is_file():
        raise BadFile(Reason("import.reason.no_such_file", path=str(path)))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path)
    if suffix == ".xls":
        raise BadFile(Reason("import.reason.xls"))
    return _open_csv(path)


# --------------------------------------------------------------------------- CSV


def _encoding(sample: bytes, complete: bool) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:  # GB18030 is a superset of GBK and GB2312, which Chinese exports use
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=complete)
        return "gb18030"
    except UnicodeDecodeError:
        raise BadFile(Reason("import.reason.encoding")) from None


def _delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:HEADER_SEARCH_ROWS] if line.strip()]
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";")}
    return max(counts, key=lambda d: counts[d])


def _open_csv(path: Path) -> Table:
    size = path.stat().st_size
    with path.open("rb") as f:
        sample = f.read(_SAMPLE_BYTES)
    if not sample.strip():
        raise BadFile(Reason("import.reason.empty_file"))
    encoding = _encoding(sample, complete=len(sample) == size)
    text = sample.decode(encoding, errors="ignore")
    delimiter = _delimiter(text)
    try:
        # a wide frame so that preamble rows with fewer fields do not set the width; missing fields are NaN
        head = pd.read_csv(
            path, encoding=encoding, sep=delimiter, header=None, dtype=str, keep_default_na=False,
            skip_blank_lines=False, nrows=HEADER_SEARCH_ROWS, names=range(MAX_COLUMNS), engine="python",
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise BadFile(Reason("import.reason.bad_csv", detail=str(exc))) from None
    present = head.notna().to_numpy()
    widths = np.where(present.any(axis=1), MAX_COLUMNS - np.argmax(present[:, ::-1], axis=1), 0)
    for i in range(len(head)):
        cells = [str(c) for c in head.iloc[i, : widths[i]]]
        if is_header(cells):
            header = [c.strip() for c in cells]
            return Table(path, "csv", header, i + 1, size, encoding, delimiter, width=int(widths[i:].max()))
    raise BadFile(
        Reason("import.reason.no_header", rows=HEADER_SEARCH_ROWS)
    )


def _csv_chunks(table: Table, chunk_rows: int) -> Iterator[Chunk]:
    with table.path.open("rb") as f:
        reader = pd.read_csv(
            f, encoding=table.encoding, sep=table.delimiter, header=None, names=range(table.width), dtype=str,
            keep_default_na=False, na_filter=False, skip_blank_lines=False, skiprows=table.header_row,
            chunksize=chunk_rows,
        )
        first = table.header_row + 1
        try:
            for frame in reader:
                yield Chunk(first, frame, f.tell())
                first += len(frame)
        except pd.errors.ParserError as exc:
            raise BadFile(Reason("import.reason.too_many_fields", detail=str(exc))) from None
        except UnicodeDecodeError as exc:
            raise BadFile(Reason("import.reason.mixed_encoding", encoding=table.encoding, detail=exc.reason, row=first)) from None


# --------------------------------------------------------------------------- XLSX


def _cell_text(cell: Any) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        if "%" in (getattr(cell, "number_format", "") or ""):
            return f"{value * 100!r}%"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


def _rows(path: Path) -> tuple[Callable[[], None], Any, Iterator[list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise BadFile(Reason("import.reason.bad_xlsx", detail=f"{exc.__class__.__name__}: {exc}")) from None
    sheet = book.active if book.active is not None else book.worksheets[0]
    rows = ([_cell_text(c) for c in row] for row in sheet.iter_rows())
    return book.close, sheet, rows


def _open_xlsx(path: Path) -> Table:
    close, sheet, rows = _rows(path)
    try:
        for i, cells in enumerate(rows):
            if i >= HEADER_SEARCH_ROWS:
                break
            if is_header(cells):
                while cells and not cells[-1].strip():
                    cells.pop()
                return Table(path, "xlsx", [c.strip() for c in cells], i + 1, int(sheet.max_row or 0),
                             sheet=sheet.title, width=len(cells))
    finally:
        close()
    raise BadFile(
        Reason("import.reason.no_header", rows=HEADER_SEARCH_ROWS)
    )


def _xlsx_chunks(table: Table, chunk_rows: int) -> Iterator[Chunk]:
    close, _sheet, rows = _rows(table.path)
    try:
        batch: list[list[str]] = []
        first = table.header_row + 1
        read = 0
        for i, cells in enumerate(rows):
            if i < table.header_row:
                continue
            read = i + 1
            batch.append((cells + [""] * table.width)[: table.width])
            if len(batch) >= chunk_rows:
                yield Chunk(first, pd.DataFrame(batch, columns=range(table.width), dtype=object), read)
                first += len(batch)
                batch = []
        if batch:
            yield Chunk(first, pd.DataFrame(batch, columns=range(table.width), dtype=object), read)
    finally:
        close()
