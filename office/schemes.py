"""The admin's changes to aid schemes: add one, rename it, stop or resume new enrolments.

No Flask imports; each change is one transaction.
"""
from __future__ import annotations

import re

from peewee import SQL, IntegrityError, fn

import models
from formats import whole_number
from models import Scheme
from office.accounts import OfficeError
from office.schedules import forget_facts

SCHEME_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,19}")

def add_scheme(kode: str, nama: str, tingkat: str, satuan: str, manfaat: str) -> Scheme:
    kode = (kode or "").strip().upper()
    if not SCHEME_CODE.fullmatch(kode):
        raise OfficeError("Kode skema 2–20 karakter: huruf besar, angka atau tanda hubung, "
                          "misalnya BLT-KAB.", "kode")
    if tingkat not in models.LEVELS:
        raise OfficeError("Pilih tingkat: pusat, provinsi atau kabupaten.", "tingkat")
    if satuan not in models.UNITS:
        raise OfficeError("Pilih sasaran: keluarga atau individu.", "satuan")
    nama, manfaat = _scheme_texts(nama, manfaat)
    try:
        with models.db.atomic():
            return Scheme.create(kode=kode, nama=nama, tingkat=tingkat, satuan=satuan,
                                 manfaat=manfaat, aktif=True)
    except IntegrityError:
        raise OfficeError(f"Kode skema {kode} sudah ada.", "kode") from None


def _scheme_texts(nama: str, manfaat: str) -> tuple[str, str]:
    nama, manfaat = " ".join((nama or "").split()), (manfaat or "").strip()
    if not nama:
        raise OfficeError("Isi nama skema.", "nama")
    if len(nama) > 200:
        raise OfficeError("Nama skema paling banyak 200 karakter.", "nama")
    if len(manfaat) > 1000:
        raise OfficeError("Keterangan manfaat paling banyak 1.000 karakter.", "manfaat")
    return nama, manfaat


def update_scheme(kode: str, nama: str, manfaat: str, desil_maks: str | None = None) -> Scheme:
    """Name, benefit and the desil limit (office/desil.py) only: level and unit decide the rules
    for existing enrolments. A new limit applies to new enrolments; current ones stay."""
    nama, manfaat = _scheme_texts(nama, manfaat)
    changes = {"nama": nama, "manfaat": manfaat}
    if desil_maks is not None:
        limit = desil_maks.strip()
        if limit and whole_number(limit, 1, 10) is None:
            raise OfficeError("Batas desil: angka 1 sampai 10, atau kosong bila tanpa batas.",
                              "desil_maks")
        changes["desil_maks"] = whole_number(limit) if limit else None
    Scheme.update(**changes).where(Scheme.kode == kode).execute()
    forget_facts()
    return Scheme.get_by_id(kode)


def set_scheme_active(kode: str, active: bool) -> Scheme:
    """An inactive scheme takes no new enrolments (models.enrol, the import, decisions refuse
    it); the enrolments it has stay as they are."""
    Scheme.update(aktif=active).where(Scheme.kode == kode).execute()
    return Scheme.get_by_id(kode)


def enrolment_counts() -> dict[str, int]:
    """Active enrolments per scheme (one GROUP BY)."""
    return dict(models.Enrolment.select(models.Enrolment.scheme, fn.COUNT(SQL("*")))
                .where(models.Enrolment.berakhir.is_null())
                .group_by(models.Enrolment.scheme).tuples())
