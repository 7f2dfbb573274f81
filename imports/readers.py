"""Reading the CSV files of the imports (the recipient list, the rice hand-overs) the same way.

CsvReader takes a text stream positioned at the header row: it drops a byte-order mark, picks the
separator from the header (semicolon when it has more of them than commas, else comma), and
names the columns in lower case. records() then yields each data record with the physical line
it starts on (the header is line 1; a quoted field may run on over the next lines, and those
lines count too), with its fields split as the importers want them:
- a line without a quote or SEP is simply split on the separator (the fast path);
- otherwise it goes through the csv module, and each field's white space is folded into single
  spaces (which also removes any SEP, so a cleaned field never holds one).
Blank lines are passed over; a record with another number of fields than the header is a
problem of its line. Only readline() and iteration are used on the stream, so a generator of
lines will do (demo.py feeds one).

FileResult holds what the results of both imports have in common.

SheetReader reads a spreadsheet (.xlsx, .xls, .ods: python-calamine, by the file's content, not
its name) with the same interface: the first sheet or a chosen one, the first non-empty row as
the header, each row's line number as the spreadsheet shows it. Cells become the text a person
sees (cell_text): a number stored as a number comes back as its digits when they are exact, and
in scientific notation (3.51016010120000E+15) when a spreadsheet may have dropped digits, which
nik.parse_nik then refuses with a precise message. open_table() picks the reader for a file.

In CSV files, a cell an export wrote as `="3510..."` (a spreadsheet keeps it as text) and a
leading apostrophe before a formula sign are unwrapped, so every export reads back as written.

Also here: the quick shape tests of the identity numbers, which accept only what nik.parse_nik
and parse_no_kk accept (their callers still check the dates and give the precise messages).
"""
from __future__ import annotations

import csv
import datetime
import io
import os
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain

from python_calamine import CalamineWorkbook

from imports.bulk import SEP, Cancelled, Problem
from nik import PROVINCES

_PROVINCE = "(?:" + "|".join(f"{p:02d}" for p in sorted(PROVINCES)) + ")"
# Digits only ([0-9]: `\d` would accept other scripts' digits), a known province, serial > 0.
NIK_SHAPE = re.compile(_PROVINCE + "[0-9]{10}(?!0000)[0-9]{4}").fullmatch
KK_SHAPE = re.compile(_PROVINCE + "[0-9]{14}").fullmatch
EXACT = 2 ** 53  # every whole number below this is exact in a spreadsheet's double
FORMULA_SIGNS = ("=", "+", "-", "@")  # what office.exports guards with an apostrophe
SPREADSHEETS = ".xlsx, .xls atau .ods"
EXTENSIONS = (".csv", ".txt", ".xlsx", ".xls", ".ods")  # the files an upload form takes
ACCEPT = ",".join(EXTENSIONS) + ",text/csv"  # for <input type=file accept=...>


class TableError(Exception):
    """A file that cannot be read as a table (or has no such sheet); str() says why."""


@dataclass
class FileResult:
    """The common part of an import's result: rows read, problems by line, and the outcome."""

    rows: int = 0  # data rows read (not the header, not blank lines)
    problems: list[Problem] = field(default_factory=list)
    skipped: int = 0  # rows with a problem (left out with skip_invalid)
    written: bool = False
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.written and not self.problems

    def summary(self, filename: str, *details: str) -> str:
        """What the audit log says of an import: the file and its outcome, no personal data."""
        outcome = "disimpan" if self.written else "tidak disimpan"
        parts = [f"{self.rows} baris", outcome, *details, f"{len(self.problems)} masalah"]
        return f"{os.path.basename(filename)}: {', '.join(parts)}"

    def finish(self) -> None:
        """Once the import is over: the problems in line order, and the rows they left out."""
        self.problems.sort(key=lambda p: p.line)
        self.skipped = len({p.line for p in self.problems if p.line})


def open_csv(path: str | os.PathLike):
    """An import file opened for CsvReader (the byte-order mark dropped, line ends kept)."""
    return open(path, encoding="utf-8-sig", newline="")


def read_text(text: str) -> io.StringIO:
    """A text stream for the imports from a string (tests, small uploads)."""
    return io.StringIO(text, newline="")


def delimiter_of(header: str) -> str:
    """The separator of a file, from its header row: ";" or ","."""
    return ";" if header.count(";") > header.count(",") else ","


# The longest record (one row, quoted line breaks included) an import reads, in characters:
# far beyond any real row, and below the csv module's field limit (131,072). A longer one (an
# unterminated quote runs on to the end of the file; a 30 MB one-line upload) stops the import
# with its line number, read in bounded pieces: time linear in the file, memory bounded.
MAX_RECORD = 100_000
TICK_CHARS = 4_000_000  # characters read between two progress calls at most (tens of ms)


def _too_long(first: int) -> TableError:
    limit = f"{MAX_RECORD:,}".replace(",", ".")
    return TableError(f"Baris {first}: isian terlalu panjang (lebih dari {limit} karakter "
                      "dalam satu baris data). Periksa tanda kutip (\") yang tidak ditutup di "
                      "baris ini.")


def physical_records(stream) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each record after the header: a quoted field may run on
    over the next lines, which the line numbers count. TableError for a record past
    MAX_RECORD characters."""
    line = 1
    while text := stream.readline(MAX_RECORD + 1):
        line += 1
        first = line
        if len(text) > MAX_RECORD:
            raise _too_long(first)
        if '"' in text:
            parts, size, quotes = [text], len(text), text.count('"')
            while quotes % 2:  # a quoted field runs on over the next line
                more = stream.readline(MAX_RECORD + 1)
                if not more:
                    break
                size += len(more)
                if size > MAX_RECORD:
                    raise _too_long(first)
                parts.append(more)
                quotes += more.count('"')
                line += 1
            text = "".join(parts)
        yield first, text


class CsvReader:
    """One import file: reads the header row at once; `records` reads the rest."""

    def __init__(self, stream):
        self.stream = stream
        header = stream.readline(MAX_RECORD + 1).lstrip("\ufeff")  # spreadsheets often save a BOM
        if len(header) > MAX_RECORD:
            raise _too_long(1)
        self.delimiter = delimiter_of(header)
        self.header = [unwrap(" ".join(h.split()))
                       for h in next(csv.reader([header], delimiter=self.delimiter), [])]
        self.names = [h.lower() for h in self.header]
        self.width = len(self.names)
        self.header_line = 1
        self.count = 0  # data records read so far (not the header, not blank lines)

    def records(self, problems: list[Problem], report, every: int) -> Iterator[
            tuple[int, list[str]]]:
        """(first line, fields) of each record with as many fields as the header.

        A record with another number of fields adds a problem (and counts as a row). After
        every `every` records, and after every TICK_CHARS characters read (a file of over-long
        records, or of nothing but problems, is cancelled as quickly as a good one),
        report("membaca", count, 0) is asked; True raises Cancelled. `count` holds the records
        read once this is done.
        """
        stream, delimiter, width = self.stream, self.delimiter, self.width
        count = read = 0
        try:
            for first, text in physical_records(stream):
                if '"' in text or SEP in text or "'" in text:
                    fields = [unwrap(" ".join(f.split())) for f in
                              next(csv.reader([text], delimiter=delimiter), [])]
                else:
                    fields = text.rstrip("\r\n").split(delimiter)
                read += len(text)
                if len(fields) != width and not "".join(fields).strip():
                    continue  # a blank line
                count += 1
                due = read >= TICK_CHARS
                if due:
                    read = 0
                _tick(count, every, report, due)
                if len(fields) != width:
                    problems.append(Problem(first, f"Baris ini berisi {len(fields)} kolom; "
                                                   f"seharusnya {width} seperti baris judul."))
                    continue
                yield first, fields
        finally:
            self.count = count


def _tick(count: int, every: int, report, due: bool = False) -> None:
    """At every `every`th record, or when `due`: report("membaca", count, 0); True raises
    Cancelled."""
    if (due or not count % every) and report("membaca", count, 0):
        raise Cancelled


def unwrap(text: str) -> str:
    """A CSV cell as a spreadsheet shows it: `="3510..."` -> `3510...`, `'=x` -> `=x`."""
    if text.startswith('="') and text.endswith('"') and len(text) > 2:
        return text[2:-1]
    if text.startswith("'") and text[1:2] in FORMULA_SIGNS:
        return text[1:]
    return text


def cell_text(value) -> str:
    """A spreadsheet cell as the text a person sees in it (white space folded)."""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if not value.is_integer():
            return f"{value:.15g}"
        digits = str(int(value))
        # A spreadsheet keeps 15 significant digits: a longer number ending in 0 may have lost
        # its last digits, so it is shown as the spreadsheet holds it, never guessed.
        if len(digits.lstrip("-")) > 15 and (digits.endswith("0") or abs(value) >= EXACT):
            return f"{value:.14E}"
        return digits
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else \
            value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return "" if value is None else str(value)


def file_kind(path: str | os.PathLike) -> str:
    """"xlsx", "ods", "xls" or "csv", from the file's first bytes (never from its name)."""
    with open(path, "rb") as fh:
        start = fh.read(8)
    if start.startswith(b"\xd0\xcf\x11\xe0"):  # an OLE compound file: Excel 97-2003
        return "xls"
    if start.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                if "mimetype" in archive.namelist() and archive.read("mimetype").startswith(
                        b"application/vnd.oasis.opendocument.spreadsheet"):
                    return "ods"
        except zipfile.BadZipFile:
            raise TableError("Berkas ini rusak atau bukan spreadsheet: tidak dapat dibuka. "
                             "Simpan ulang dari Excel atau LibreOffice.") from None
        return "xlsx"
    return "csv"


class SheetReader:
    """One sheet of a spreadsheet, read row by row with CsvReader's interface.

    The header is the first non-empty row, or, when `is_header` is given, the first of the
    first HEADER_SEARCH non-empty rows it accepts: a title row above the table ("DAFTAR
    PENERIMA DESA ...") is passed over, and the line numbers stay the sheet's own."""

    HEADER_SEARCH = 20

    def __init__(self, path: str | os.PathLike, sheet: str | None = None, is_header=None):
        try:
            self.workbook = CalamineWorkbook.from_path(str(path))
        except Exception as exc:  # noqa: BLE001 - calamine's errors differ per format
            raise TableError(f"Berkas ini tidak dapat dibaca sebagai spreadsheet "
                             f"({SPREADSHEETS}): {exc}. Simpan ulang dari Excel atau LibreOffice, "
                             "atau simpan sebagai CSV UTF-8.") from None
        chosen = pick_sheet(self.workbook.sheet_names, sheet)
        self.sheet_name = chosen
        self.rows = enumerate(self.workbook.get_sheet_by_name(chosen).iter_rows(), 1)
        self.waiting: list[tuple[int, list]] = []  # rows read while looking for the header
        for line, row in self.rows:  # iter_rows starts at the sheet's first row, empty or not
            if any(c not in ("", None) for c in row):
                self.waiting.append((line, row))
                if is_header is None or len(self.waiting) == self.HEADER_SEARCH:
                    break
        self.header_line, header = 1, []
        for i, (line, row) in enumerate(self.waiting):
            texts = _trimmed([cell_text(c) for c in row])
            if is_header is None or is_header(texts):
                self.header_line, header = line, texts
                self.waiting = self.waiting[i + 1:]
                break
        else:
            # None accepted: the first of the fullest rows (a title row has one cell), so that
            # its problem is told and its columns can be mapped.
            widths = [sum(c not in ("", None) for c in row) for _line, row in self.waiting]
            if widths:
                i = widths.index(max(widths))
                self.header_line, header = self.waiting[i][0], _trimmed(
                    [cell_text(c) for c in self.waiting[i][1]])
                self.waiting = self.waiting[i + 1:]
        self.header = header
        self.names = [h.lower() for h in self.header]
        self.width = len(self.header)
        self.count = 0

    def records(self, problems: list[Problem], report, every: int) -> Iterator[
            tuple[int, list[str]]]:
        """(line, fields) of each non-empty row below the header, as CsvReader.records."""
        width, count = self.width, 0
        try:
            for line, row in chain(self.waiting, self.rows):
                fields = [cell_text(c) for c in row[:width]]
                if not any(fields):
                    continue
                if len(fields) < width:
                    fields += [""] * (width - len(fields))
                count += 1
                _tick(count, every, report)
                yield line, fields
        finally:
            self.count = count

    def close(self) -> None:
        self.workbook.close()


def _trimmed(header: list[str]) -> list[str]:
    while header and not header[-1]:
        header.pop()
    return header


def pick_sheet(names: list[str], wanted: str | None) -> str:
    """The sheet to read: the first, or the one named (case and spaces aside), or its number."""
    if not names:
        raise TableError("Berkas spreadsheet ini tidak berisi lembar (sheet) apa pun.")
    wanted = " ".join((wanted or "").split())
    if not wanted:
        return names[0]
    for name in names:
        if " ".join(name.split()).lower() == wanted.lower():
            return name
    if wanted.isdigit() and 1 <= int(wanted) <= len(names):
        return names[int(wanted) - 1]
    raise TableError(f"Lembar (sheet) “{wanted}” tidak ada di berkas ini. Lembar yang ada: "
                     + ", ".join(names) + ".")


@contextmanager
def open_table(source, sheet: str | None = None, is_header=None):
    """The reader for an import file: a path (CSV or spreadsheet, by content) or a text stream
    (CSV). Raises TableError when a spreadsheet cannot be read or has no such sheet.
    `is_header(texts)` tells a spreadsheet's header row from title rows above it."""
    if not isinstance(source, str | os.PathLike):
        yield CsvReader(source)
        return
    if file_kind(source) == "csv":
        with open_csv(source) as stream:
            yield CsvReader(stream)
        return
    reader = SheetReader(source, sheet, is_header)
    try:
        yield reader
    finally:
        reader.close()
