"""Parsing and validating NIK and No. KK numbers, with a precise Indonesian message per failure.

A NIK is `PP KK CC DDMMYY SSSS`: province, regency, kecamatan where it was first issued, birth
date (women: day + 40) and a serial. It has no check digit, and it never changes when a person
moves, so nothing here compares it with an address.
"""
from __future__ import annotations

import datetime
import re
from typing import NamedTuple

PROVINCES = frozenset(
    [11, 12, 13, 14, 15, 16, 17, 18, 19, 21]
    + list(range(31, 37))
    + [51, 52, 53]
    + list(range(61, 66))
    + list(range(71, 77))
    + [81, 82]
    + list(range(91, 98))
)


class NikError(ValueError):
    """A NIK or No. KK that cannot be valid; str(error) is the message for the resident."""


class Nik(NamedTuple):
    nik: str
    region: str  # first six digits: province, regency, kecamatan (Kemendagri, no dots)
    birth_date: datetime.date
    female: bool
    serial: int

    @property
    def kecamatan_code(self) -> str:
        """The dotted Kemendagri code of the kecamatan that issued the NIK (`35.10.16`)."""
        r = self.region
        return f"{r[0:2]}.{r[2:4]}.{r[4:6]}"


# 3.51016E+15, 3,51016E+15: a 16-digit number a spreadsheet stored as a number and wrote in
# scientific notation; it keeps 15 significant digits at most, so the last ones are gone.
SCIENTIFIC = re.compile(r"[0-9]+(?:[.,][0-9]*)?[eE]\+?[0-9]+").fullmatch


def clean(value: str | None) -> str:
    """Drop the spaces people type between digit groups."""
    return "".join((value or "").split())


def _digits(value: str | None, label: str) -> str:
    number = clean(value)
    if not number:
        raise NikError(f"{label} wajib diisi.")
    if not number.isascii() or not number.isdigit():
        if SCIENTIFIC(number):
            raise NikError(
                f"{label} tersimpan sebagai angka ({number}): spreadsheet hanya menyimpan 15 "
                "angka, jadi angka terakhirnya hilang. Ubah format kolom menjadi Teks, ketik "
                f"ulang {label} lengkap 16 angka, lalu unggah lagi.")
        raise NikError(f"{label} hanya boleh berisi angka 0–9.")
    if len(number) != 16:
        raise NikError(f"{label} harus 16 angka, yang diisi {len(number)} angka.")
    if int(number[:2]) not in PROVINCES:
        raise NikError(
            f"Kode provinsi {number[:2]} (2 angka pertama {label}) tidak dikenal."
        )
    return number


def _century(yy: int, today: datetime.date) -> int:
    # Two-digit years: nobody is born in the future, so a year above this year's is the 1900s.
    return 2000 + yy if 2000 + yy <= today.year else 1900 + yy


def parse_nik(value: str | None, today: datetime.date | None = None) -> Nik:
    """Return the parts of a valid NIK, or raise NikError saying exactly what is wrong."""
    number = _digits(value, "NIK")
    day, month, yy = int(number[6:8]), int(number[8:10]), int(number[10:12])
    female = day > 40
    if not (1 <= day <= 31 or 41 <= day <= 71):
        raise NikError(
            f"Tanggal lahir pada NIK tidak mungkin: angka ke-7 dan ke-8 ({number[6:8]}) "
            "harus 01–31, atau 41–71 untuk perempuan (tanggal lahir ditambah 40)."
        )
    if not 1 <= month <= 12:
        raise NikError(
            f"Bulan lahir pada NIK tidak mungkin: angka ke-9 dan ke-10 ({number[8:10]}) "
            "harus 01–12."
        )
    year = _century(yy, today or datetime.date.today())
    try:
        birth = datetime.date(year, month, day - 40 if female else day)
    except ValueError:
        raise NikError(
            f"Tanggal lahir pada NIK tidak ada di kalender: "
            f"{day - 40 if female else day:02d}-{month:02d}-{year}."
        ) from None
    if number[12:] == "0000":
        raise NikError("Nomor urut pada NIK (4 angka terakhir) tidak boleh 0000.")
    return Nik(number, number[:6], birth, female, int(number[12:]))


def parse_no_kk(value: str | None) -> str:
    """Return a valid No. KK as 16 digits; its middle digits are an issue date, not checked."""
    return _digits(value, "No. KK")


def make_nik(region: str, birth: datetime.date, female: bool, serial: int) -> str:
    """Compose a NIK from its parts (used by the demo data and the tests)."""
    day = birth.day + 40 if female else birth.day
    return f"{region}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"
