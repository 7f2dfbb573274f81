"""Downloads the staff pages share: an .xlsx workbook sent as a file."""
from __future__ import annotations

import os
import tempfile

from flask import send_file

from office import exports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def send_xlsx(header, rows, sheet: str, download_name: str):
    """The workbook is written to a temporary file (constant memory), sent, and gone: the open
    file stays readable after its name is removed. Never cached (personal data)."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        exports.write_xlsx(path, header, rows, sheet)
        workbook = open(path, "rb")  # send_file closes it
    finally:
        os.unlink(path)
    response = send_file(workbook, mimetype=XLSX, as_attachment=True, max_age=0,
                         download_name=download_name)
    response.headers["Cache-Control"] = "no-store"
    return response
