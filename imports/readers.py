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

Also here: the quick shape tests of the identity numbers, which accept only what nik.parse_nik
and parse_no_kk accept (their callers still check the dates and give the precise messages).
"""
from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from imports.bulk import SEP, Cancelled, Problem
from nik import PROVINCES

_PROVINCE = "(?:" + "|".join(f"{p:02d}" for p in sorted(PROVINCES)) + ")"
# Digits only ([0-9]: `\d` would accept other scripts' digits), a known province, serial > 0.
NIK_SHAPE = re.compile(_PROVINCE + "[0-9]{10}(?!0000)[0-9]{4}").fullmatch
KK_SHAPE = re.compile(_PROVINCE + "[0-9]{14}").fullmatch


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


def physical_records(stream) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each record after the header: a quoted field may run on
    over the next lines, which the line numbers count."""
    line = 1
    for text in stream:
        line += 1
        first = line
        if '"' in text:
            while text.count('"') % 2:  # a quoted field runs on over the next line
                more = stream.readline()
                if not more:
                    break
                text, line = text + more, line + 1
        yield first, text


class CsvReader:
    """One import file: reads the header row at once; `records` reads the rest."""

    def __init__(self, stream):
        self.stream = stream
        header = stream.readline().lstrip("\ufeff")  # spreadsheets often save a byte-order mark
        self.delimiter = delimiter_of(header)
        self.names = [h.strip().lower()
                      for h in next(csv.reader([header], delimiter=self.delimiter), [])]
        self.width = len(self.names)
        self.count = 0  # data records read so far (not the header, not blank lines)

    def header_problem(self, required, note: str = "") -> Problem | None:
        """The problem of line 1 when a required column is missing (`note` follows the list of
        required columns in the message), else None."""
        missing = [h for h in required if h not in self.names]
        if not missing:
            return None
        return Problem(1, "Baris judul harus berisi kolom " + ",".join(required) + note
                       + "; tidak ada: " + ", ".join(missing) + ".")

    def records(self, problems: list[Problem], report, every: int) -> Iterator[
            tuple[int, list[str]]]:
        """(first line, fields) of each record with as many fields as the header.

        A record with another number of fields adds a problem (and counts as a row). At each
        record of the right width whose count is a multiple of `every`, report("membaca", count,
        0) is asked; True raises Cancelled. `count` holds the records read once this is done.
        """
        stream, delimiter, width = self.stream, self.delimiter, self.width
        count = 0
        try:
            for first, text in physical_records(stream):
                if '"' in text or SEP in text:
                    fields = [" ".join(f.split()) for f in
                              next(csv.reader([text], delimiter=delimiter), [])]
                else:
                    fields = text.rstrip("\r\n").split(delimiter)
                if len(fields) != width:
                    if not "".join(fields).strip():
                        continue  # a blank line
                    count += 1
                    problems.append(Problem(first, f"Baris ini berisi {len(fields)} kolom; "
                                                   f"seharusnya {width} seperti baris judul."))
                    continue
                count += 1
                if not count % every and report("membaca", count, 0):
                    raise Cancelled
                yield first, fields
        finally:
            self.count = count
