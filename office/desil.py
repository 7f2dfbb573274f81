"""The DTSEN welfare rank of a family (desil 1–10, 1 the poorest tenth), and schemes' limits.

Since 2025 the national welfare data (DTSEN) ranks every family in tenths; a scheme may take
families up to a given desil only (PKH desil 1–4, Sembako desil 1–5). The desil arrives with the
recipient lists (imports), one per family card; a scheme's limit is set by an admin. The rule is
here once: the import, the reviewer's decision (models.enrol) and the case page ask it.

No Flask, and no import of models: models.enrol imports this module.
"""
from __future__ import annotations

from peewee import CharField, DateTimeField, SmallIntegerField

from database import BaseModel, db
from formats import utcnow

DESILS = range(1, 11)
# "4", "04", "4.0" (a spreadsheet's number) -> 4
_TEXTS = {**{str(d): d for d in DESILS}, **{f"{d:02d}": d for d in DESILS},
          **{f"{d}.0": d for d in DESILS}}


class FamilyDesil(BaseModel):
    """A family's desil, by its card number, as the latest list that named it says."""

    no_kk = CharField(max_length=16, primary_key=True)
    desil = SmallIntegerField()
    sumber = CharField(max_length=200)
    diperbarui_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "desil_keluarga"


def parse_desil(text: str) -> int | None:
    """The desil in a cell ("" -> None); raises ValueError with the message for the row."""
    text = text.strip()
    if not text:
        return None
    desil = _TEXTS.get(text)
    if desil is None:
        raise ValueError(f"Desil {text} tidak dikenal: isi angka 1 sampai 10, atau kosongkan.")
    return desil


def desil_problem(scheme: str, limit: int | None, desil: int | None) -> str | None:
    """Why a family of this desil may not join the scheme, or None (no limit, desil unknown)."""
    if limit is None or desil is None or desil <= limit:
        return None
    return (f"Keluarga ini desil {desil}; skema {scheme} hanya untuk keluarga desil 1–{limit} "
            "(DTSEN).")


def desil_of(no_kk: str | None) -> int | None:
    if not no_kk:
        return None
    row = db.execute_sql(f"SELECT desil FROM desil_keluarga WHERE no_kk = {db.param}",
                         (no_kk,)).fetchone()
    return row[0] if row else None


def verdicts(desil: int | None, schemes) -> list[tuple[object, bool, str]]:
    """For the reviewer: each scheme, whether this family's desil allows it, and why."""
    found = []
    for scheme in schemes:
        limit = scheme.desil_maks
        if limit is None:
            found.append((scheme, True, "tanpa batas desil"))
        elif desil is None:
            found.append((scheme, True, f"untuk desil 1–{limit}; desil keluarga ini belum "
                                        "tercatat, periksa di DTSEN"))
        elif desil <= limit:
            found.append((scheme, True, f"desil {desil} masuk batas desil 1–{limit}"))
        else:
            found.append((scheme, False, f"desil {desil} di atas batas desil 1–{limit}"))
    return found
