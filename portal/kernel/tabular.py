"""Tables people make in Excel: reading an upload and writing a download, for every import/export.

``read_table(raw, columns, required)`` reads an upload — CSV in UTF-8 (with or without BOM),
UTF-16 with BOM or GBK/GB18030 as Excel in China saves it, comma or tab separated, or an .xlsx
workbook (its first sheet) — and maps its header to fields through ``columns``: rows of
(field, English header, Chinese header), either header (or the field's own name) naming the
column. It returns the columns found, the rows (field → text, with ``_line``, the file's line
or the sheet's row the record starts on) and the problems found, each naming its line and
column. A domain checks its own rules per row and reports them the same way (``RowError``).

``csv_chunks`` and ``xlsx_bytes`` write a download: CSV in UTF-8 with a BOM (so Excel opens it
right), or a workbook. Either way a cell that Excel would run as a formula stays text.
"""
from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask_babel import gettext as _

#: (field, English header, Chinese header)
Column = tuple[str, str, str]
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Characters that make Excel read a cell as a formula ("CSV injection"). The CSV export writes
# such a cell with a leading apostrophe, Excel's "this is text" mark, and the import takes it off.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Control characters never occur in a CSV people write: their presence means binary data.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: A workbook whose parts unpack to more than this is refused before it is opened (a zip bomb).
MAX_XLSX_UNPACKED = 256 * 1024 * 1024
#: Columns read from a sheet: far more than any import has, few enough to bound a wide sheet.
MAX_XLSX_COLUMNS = 200
#: The longest cell a sheet may hold, as the csv module's own limit for a CSV field.
MAX_CELL = csv.field_size_limit()


@dataclass
class RowError:
    line: int          # line number in the file (the header is line 1); 0 for the whole file
    column: str        # the column's header as the file names it
    message: str


@dataclass
class ImportResult:
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


class TableError(ValueError):
    """An upload that cannot be read at all; ``str()`` is the message for the user."""


# --------------------------------------------------------------------------- reading

def _not_text() -> TableError:
    return TableError(_("The file is neither UTF-8 nor GBK text. Save it from Excel as “CSV UTF-8” and try again."))


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GBK/GB18030 as Excel in China saves it.

    Anything else raises TableError with a message for the user: an old .xls workbook, binary
    data, or text in another encoding (Latin-1, Windows-1252 …)."""
    if raw.startswith(b"\xd0\xcf\x11\xe0"):       # .xls, Excel 97–2003
        raise TableError(_("This is an old Excel workbook (.xls). In Excel choose “Save As” › “Excel Workbook "
                           "(.xlsx)” or “CSV UTF-8” and upload the saved file."))
    try:
        if raw.startswith(codecs.BOM_UTF8):
            text = raw[len(codecs.BOM_UTF8):].decode("utf-8")
        elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = raw.decode("utf-16")
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("gb18030")
                if _misread_as_gbk(text):
                    raise _not_text() from None
    except UnicodeDecodeError:
        raise _not_text() from None
    if CONTROL.search(text):
        raise _not_text()
    return text


def _misread_as_gbk(text: str) -> bool:
    """Text in a single-byte encoding (Latin-1 "Zürich") often pairs up into valid GB18030
    characters, but rare ones: real Chinese is overwhelmingly in the GB2312 area (both bytes
    0xA1 or above, outside the user-defined rows that map to the private use area)."""
    wide = list(itertools.islice((c for c in text if c > "\x7f"), 20000))
    if not wide:
        return False
    common = 0
    for c in wide:
        b = c.encode("gb18030")
        if len(b) == 2 and b[0] >= 0xA1 and b[1] >= 0xA1 and not "\ue000" <= c <= "\uf8ff":
            common += 1
    return common * 2 < len(wide)


def _from_cell(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


def _to_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _cell_text(value) -> str:
    """A workbook cell as the text a CSV of it would hold: 10 → "10", 12.5 → "12.5"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes") if value.time() != time() else value.date().isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _xlsx_records(raw: bytes) -> Iterator[tuple[int, list[str]]]:
    """(row number, cell texts) of the workbook's first sheet."""
    from openpyxl import load_workbook

    unreadable = TableError(_("This Excel workbook could not be read. Open it in Excel, save it again as "
                              "“Excel Workbook (.xlsx)” or “CSV UTF-8”, and upload the saved file."))
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED:
                raise TableError(_("This workbook is too large. Split it into smaller files."))
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except TableError:
        raise
    except Exception:            # a zip that is not a workbook: openpyxl raises many kinds
        raise unreadable from None
    try:
        sheet = book.worksheets[0]
        # Values only (no cell objects: several times faster); read-only sheets fill the gaps
        # between rows with empty ones from row 1 on, so counting gives each row's number.
        for number, values in enumerate(sheet.iter_rows(max_col=MAX_XLSX_COLUMNS, values_only=True),
                                        start=1):
            texts = [_cell_text(v) for v in values]
            while texts and not texts[-1].strip():
                texts.pop()
            yield number, texts
    except TableError:
        raise
    except Exception:
        raise unreadable from None
    finally:
        book.close()


def _csv_records(text: str, errors: list[RowError]) -> Iterator[tuple[int, list[str]]]:
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    try:
        for values in reader:
            start, line = line, reader.line_num + 1
            yield start, values
    except csv.Error as exc:
        errors.append(RowError(line, "", _("The file could not be read as CSV: %(error)s", error=str(exc))))


def header_map(columns: Sequence[Column], aliases: dict[str, str] | None = None) -> dict[str, str]:
    names = {}
    for fld, en, zh in columns:
        names[en.lower()] = fld
        names[zh.lower()] = fld
        names[fld.lower()] = fld
    for header, fld in (aliases or {}).items():
        names.setdefault(header.lower(), fld)
    return names


def read_table(raw: bytes, columns: Sequence[Column], required: Iterable[str], *,
               max_rows: int | None = None,
               aliases: dict[str, str] | None = None) -> tuple[dict[str, str], list[dict], list[RowError]]:
    """Read an upload (see the module). Returns the columns found (field → header as the file
    spells it), the rows (field → value, with ``_line``) and the problems found. A file that
    cannot be read at all raises TableError. With ``max_rows``, a file with more rows than that
    has an error for the whole file (line 0) and no more rows are read than one past it.
    ``aliases`` (header → field) are more headers a column may have (a template's own)."""
    errors: list[RowError] = []
    if raw.startswith(b"PK\x03\x04"):                 # .xlsx (a zip)
        records = _xlsx_records(raw)
        multiline_ok = True                           # a cell may hold a line break on purpose
    else:
        text = decode(raw)
        if not text.strip():
            raise TableError(_("The file is empty."))
        records = _csv_records(text, errors)
        multiline_ok = False
    names = header_map(columns, aliases)
    labels: dict[str, str] = {}
    fields: list[str | None] = []      # per column: its field, or None (ignored, must stay blank)
    rows: list[dict] = []
    first = next(records, None)
    if first is None:
        if errors:
            return labels, rows, errors
        raise TableError(_("The file is empty."))
    for h in first[1]:
        name = h.replace("\ufeff", "").strip()      # a BOM left over from joining two files
        key = names.get(name.lower()) if name else None
        if name and key is None:
            errors.append(RowError(1, name, _("Unknown column “%(name)s”.", name=name)))
        elif key in labels:
            errors.append(RowError(1, name, _("Column “%(name)s” appears twice.", name=name)))
            key = None
        elif key:
            labels[key] = name
        fields.append(key)
    required = set(required)
    missing = [f"{zh} ({en})" for fld, en, zh in columns if fld in required and fld not in labels]
    if missing:
        errors.append(RowError(1, "", _("Missing columns: %(cols)s.", cols="、".join(missing))))
    for start, values in records:
        if not any(v.strip() for v in values):
            continue
        if max_rows is not None and len(rows) >= max_rows:
            if not any(e.line <= 1 for e in errors):
                errors.append(RowError(0, "", _("At most %(n)s rows per file.", n=max_rows)))
            break
        if any(v.strip() for f, v in itertools.zip_longest(fields, values) if f is None and v):
            errors.append(RowError(start, "", _("This row has more values than the header has columns.")))
            continue
        row = {}
        for f, v in zip(fields, values, strict=False):
            if f is None:
                continue
            if len(v) > MAX_CELL:
                errors.append(RowError(start, labels[f], _("At most %(n)s characters.", n=MAX_CELL)))
            elif not multiline_ok and ("\n" in v or "\r" in v):
                errors.append(RowError(start, labels[f], _(
                    "This value runs over several lines: a closing quote (\") is probably missing.")))
            row[f] = _from_cell(v)
        row["_line"] = start
        rows.append(row)
    return labels, rows, errors


# --------------------------------------------------------------------------- writing

def csv_chunks(header: Sequence[str], rows: Iterable[Sequence], *, every: int = 500) -> Iterator[str]:
    """CSV text (UTF-8 with BOM so Excel opens it right), in chunks of ``every`` rows; a cell
    Excel would run as a formula starts with an apostrophe (which ``read_table`` takes off)."""
    yield "\ufeff"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for i, row in enumerate(rows):
        writer.writerow([_to_cell(_cell_text(v)) for v in row])
        if i % every == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _display_width(value) -> int:
    return sum(2 if ord(ch) > 0x2e7f else 1 for ch in _cell_text(value))


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence], *, title: str = "Sheet1",
               more: Iterable[tuple[str, Sequence[str], Iterable[Sequence]]] = ()) -> bytes:
    """A workbook: the sheet ``title`` first (the one an import reads), then the ``more`` sheets
    given as (title, header, rows), such as a template's list of valid values. Text that looks
    like a formula is stored as text; every cell is written as text or a number, never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)

    def add(sheet_title, sheet_header, sheet_rows):
        sheet = book.create_sheet(sheet_title[:31])
        # Readable at once: the header row stays in view, and each column is as wide as its
        # header (a Chinese character counts twice) or, for rows given as a list (a template's
        # notes), its longest cell; set before the first row, as a write-only sheet needs.
        sheet.freeze_panes = "A2"
        sample = [sheet_header, *sheet_rows] if isinstance(sheet_rows, (list, tuple)) else [sheet_header]
        for i in range(len(sheet_header)):
            width = max(_display_width(row[i]) if i < len(row) else 0 for row in sample)
            sheet.column_dimensions[get_column_letter(i + 1)].width = min(60, max(12, width + 4))

        def cells(values):
            out = []
            for v in values:
                cell = WriteOnlyCell(sheet, value=v)
                if isinstance(v, str) and v.startswith("="):
                    cell.data_type = "s"
                out.append(cell)
            return out

        sheet.append(cells(sheet_header))
        for row in sheet_rows:
            sheet.append(cells(row))

    add(title, header, rows)
    for sheet_title, sheet_header, sheet_rows in more:
        add(sheet_title, sheet_header, sheet_rows)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
