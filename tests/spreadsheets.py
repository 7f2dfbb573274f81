"""Real spreadsheet files for the tests, written by the libraries offices' software agrees
with: XlsxWriter (.xlsx), xlwt (.xls, Excel 97-2003) and odfpy (.ods, LibreOffice)."""
from __future__ import annotations

import datetime
from pathlib import Path

import xlsxwriter
import xlwt
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P

from tests.conftest import new_nik


def write_xlsx(path: Path, rows: list[list], sheet: str = "Sheet1",
               before: dict[str, list[list]] | None = None) -> Path:
    """Numbers stay numbers (an int NIK is stored as a number, as Excel would)."""
    book = xlsxwriter.Workbook(str(path))
    dates = book.add_format({"num_format": "dd-mm-yyyy"})
    for name, other in (before or {}).items():
        _xlsx_sheet(book.add_worksheet(name), other, dates)
    _xlsx_sheet(book.add_worksheet(sheet), rows, dates)
    book.close()
    return path


def _xlsx_sheet(worksheet, rows, dates) -> None:
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, datetime.date):
                worksheet.write_datetime(r, c, datetime.datetime.combine(value, datetime.time()),
                                         dates)
            elif isinstance(value, str):
                worksheet.write_string(r, c, value)
            elif value is not None:
                worksheet.write_number(r, c, value)


def write_xls(path: Path, rows: list[list], sheet: str = "Sheet1") -> Path:
    book = xlwt.Workbook()
    worksheet = book.add_sheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                worksheet.write(r, c, value)
    book.save(str(path))
    return path


def write_ods(path: Path, rows: list[list], sheet: str = "Lembar1") -> Path:
    doc = OpenDocumentSpreadsheet()
    table = Table(name=sheet)
    for row in rows:
        tr = TableRow()
        for value in row:
            if isinstance(value, str):
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=value))
            elif value is None:
                cell = TableCell()
            else:
                cell = TableCell(valuetype="float", value=value)
                cell.addElement(P(text=str(value)))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


WRITERS = {"xlsx": write_xlsx, "xls": write_xls, "ods": write_ods}


def number_nik() -> str:
    """A fresh NIK whose last digit is not 0: stored as a number by a spreadsheet, it is exact
    (one ending in 0 may have lost a digit, and is refused)."""
    while True:
        nik = new_nik()
        if not nik.endswith("0"):
            return nik
