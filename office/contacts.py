"""Where to get help: each office's address, phone/WhatsApp number and opening hours, entered by
an admin. The Dinas Sosial's own entry (DINSOS) is what public pages show; receipts and case
pages show the office that took the report, falling back to the Dinas Sosial's.
"""
from __future__ import annotations

from peewee import CharField, DateTimeField

from database import BaseModel
from errors import RuleError
from formats import utcnow

PHONE_CHARACTERS = set("0123456789 +-().")
DINSOS = "dinsos"  # the Dinas Sosial itself; other entries are keyed by a region code
FIELDS = {"nama": 150, "alamat": 300, "telepon": 20, "whatsapp": 20, "jam_buka": 150}


class OfficeContact(BaseModel):
    """How residents reach one office (kantor)."""

    kode = CharField(primary_key=True, max_length=13)
    nama = CharField(max_length=150)
    alamat = CharField(max_length=300, default="")
    telepon = CharField(max_length=20, default="")
    whatsapp = CharField(max_length=20, default="")
    jam_buka = CharField(max_length=150, default="")
    diperbarui_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "kontak_kantor"

    @property
    def whatsapp_link(self) -> str:
        """`https://wa.me/6281…` for a number written 0812… or +62 812…."""
        digits = _digits(self.whatsapp)
        if digits.startswith("0"):
            digits = "62" + digits[1:]
        return f"https://wa.me/{digits}" if digits else ""


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def contact(kode: str | None) -> OfficeContact | None:
    """The office's entry, else the Dinas Sosial's (None when neither was entered yet)."""
    found = OfficeContact.get_or_none(OfficeContact.kode == kode) if kode else None
    return found or OfficeContact.get_or_none(OfficeContact.kode == DINSOS)


def save_contact(kode: str, values: dict) -> OfficeContact:
    """Create or update an office's entry; RuleError (with the field) for a bad value."""
    row = {name: " ".join((values.get(name) or "").split()) for name in FIELDS}
    if not row["nama"]:
        raise RuleError("Isi nama kantor.", "nama")
    for name, limit in FIELDS.items():
        if len(row[name]) > limit:
            raise RuleError(f"Paling banyak {limit} karakter.", name)
    for name in ("telepon", "whatsapp"):
        if row[name] and not (set(row[name]) <= PHONE_CHARACTERS
                              and 6 <= len(_digits(row[name])) <= 15):
            raise RuleError("Tulis nomor telepon dengan angka saja, misalnya 0333 424242.",
                            name)
    row["diperbarui_at"] = utcnow()
    OfficeContact.insert(kode=kode, **row).on_conflict(
        conflict_target=[OfficeContact.kode],
        update={getattr(OfficeContact, k): v for k, v in row.items()}).execute()
    return OfficeContact.get_by_id(kode)
