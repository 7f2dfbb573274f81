"""The admin's changes to staff accounts and aid schemes, each one transaction that keeps the rules.

No Flask imports. The rule that matters most: the office never locks itself out. The last active
admin cannot be deactivated or given another role; the check and the change happen in one
transaction that first locks every active admin row (SELECT ... FOR UPDATE on PostgreSQL;
SQLite's IMMEDIATE transactions admit one writer at a time), so two admins demoting each other at
the same moment cannot both succeed.
"""
from __future__ import annotations

import re

from peewee import SQL, IntegrityError, fn

import models
from models import Region, Scheme, User

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,49}")
SCHEME_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,19}")
MIN_PASSWORD = 12  # as for a password the user chooses (views/account.py)


class OfficeError(Exception):
    """A change the rules forbid; str(error) is the Indonesian message, `field` the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _office(kantor: str | None) -> str | None:
    if not kantor:
        return None
    if Region.get_or_none(Region.kode == kantor) is None:
        raise OfficeError(f"Kode kantor {kantor} tidak dikenal.", "kantor")
    return kantor


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise OfficeError(f"Kata sandi minimal {MIN_PASSWORD} karakter.", "kata_sandi")


def create_user(username: str, role: str, password: str, kantor: str | None = None) -> User:
    username = (username or "").strip().lower()
    if not USERNAME.fullmatch(username):
        raise OfficeError("Nama pengguna 3–50 karakter: huruf kecil, angka, titik, garis bawah "
                          "atau tanda hubung, diawali huruf atau angka.", "username")
    if role not in models.ROLES:
        raise OfficeError("Pilih peran: petugas, verifikator atau admin.", "role")
    _check_password(password)
    user = User(username=username, role=role, kantor=_office(kantor))
    user.set_password(password)
    try:
        with models.db.atomic():
            user.save()
    except IntegrityError:
        raise OfficeError(f"Nama pengguna {username} sudah dipakai.", "username") from None
    return user


def _other_active_admins(user_id: int) -> int:
    """Active admins other than this one, with their rows locked until the transaction ends."""
    query = (User.select(User.id).where(User.role == "admin", User.aktif == True)  # noqa: E712
             .order_by(User.id))
    if getattr(models.db.obj, "for_update", False):
        query = query.for_update()
    return sum(1 for (uid,) in query.tuples() if uid != user_id)


def _keep_an_admin(user: User, message: str) -> None:
    if user.role == "admin" and user.aktif and not _other_active_admins(user.id):
        raise OfficeError(message)


def update_user(user_id: int, role: str, kantor: str | None) -> User:
    """A new role or office; the last active admin keeps the admin role."""
    if role not in models.ROLES:
        raise OfficeError("Pilih peran: petugas, verifikator atau admin.", "role")
    with models.db.atomic():
        user = User.get_by_id(user_id)
        if role != "admin":
            _keep_an_admin(user, "Ini satu-satunya admin yang aktif: perannya tidak dapat "
                                 "diubah. Jadikan akun lain admin lebih dulu.")
        User.update(role=role, kantor=_office(kantor)).where(User.id == user_id).execute()
        if role != user.role:
            user.end_sessions()  # the new role applies from the next sign-in
    return User.get_by_id(user_id)


def set_active(user_id: int, active: bool) -> User:
    """Deactivate (every session ends at once) or reactivate an account."""
    with models.db.atomic():
        user = User.get_by_id(user_id)
        if not active:
            _keep_an_admin(user, "Ini satu-satunya admin yang aktif: akun ini tidak dapat "
                                 "dinonaktifkan. Jadikan akun lain admin lebih dulu.")
        User.update(aktif=active).where(User.id == user_id).execute()
        if not active:
            user.end_sessions()
    return User.get_by_id(user_id)


def reset_password(user_id: int, password: str) -> User:
    """A new password set by an admin; every session of that account ends."""
    _check_password(password)
    user = User.get_by_id(user_id)
    user.change_password(password)  # also bumps the session epoch
    return user


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


def update_scheme(kode: str, nama: str, manfaat: str) -> Scheme:
    """Name and benefit only: level and unit decide the rules for existing enrolments."""
    nama, manfaat = _scheme_texts(nama, manfaat)
    Scheme.update(nama=nama, manfaat=manfaat).where(Scheme.kode == kode).execute()
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
