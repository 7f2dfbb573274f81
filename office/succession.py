"""Pergantian pengurus: a family scheme passes from one member of the family card to another.

When the member a family scheme was registered to dies (or moves out), the family keeps its aid:
the enrolment ends with its reason and date (kept as history), and the same scheme starts for
another member of the same card on that date. Both in one transaction, through the register's
own rules (models.end_enrolment, models.enrol), so nothing here can break them.
"""
from __future__ import annotations

import datetime

from models import Enrolment, Person, RegisterError, Scheme, User, db, end_enrolment, enrol


def heirs(enrolment_id: int) -> list:
    """The other members of the family card a family enrolment covers, by NIK."""
    enrolment = Enrolment.get_or_none(Enrolment.id == enrolment_id)
    if enrolment is None or not enrolment.family_kk:
        return []
    return list(Person.select(Person.nik, Person.nama)
                .where(Person.no_kk == enrolment.family_kk,
                       Person.nik != enrolment.nik)
                .order_by(Person.nik).limit(30).namedtuples())


def pass_on(enrolment_id: int, to_nik: str, reason: str, date: datetime.date | None = None,
            by: User | None = None) -> Enrolment:
    """End a family enrolment and give the same scheme to another member of its card, from the
    same date; raise RegisterError (field `penerus` for a wrong choice) and change nothing."""
    with db.atomic():
        enrolment = Enrolment.get_or_none(Enrolment.id == enrolment_id)
        if enrolment is None:
            raise RegisterError("Kepesertaan tidak ditemukan.")
        scheme = Scheme.get_by_id(enrolment.skema_kode)
        if scheme.satuan != "keluarga":
            raise RegisterError("Hanya bantuan keluarga yang dapat dipindahkan ke anggota "
                                "keluarga lain.", "penerus")
        heir = Person.get_or_none(Person.nik == to_nik)
        if heir is None or heir.nik == enrolment.nik or heir.no_kk != enrolment.family_kk:
            raise RegisterError("Pilih anggota keluarga dengan No. KK yang sama.", "penerus")
        ended = end_enrolment(enrolment_id, reason, date, by=by)
        return enrol(to_nik, scheme, sumber=f"pergantian:{enrolment.nik}",
                     sejak=ended.berakhir)
