"""The admin's changes to staff accounts, each one transaction that keeps the rules.

No Flask imports. The rule that matters most: the office never locks itself out. The last active
admin cannot be deactivated or given another role; the check and the change happen in one
transaction that first locks every active admin row (SELECT ... FOR UPDATE on PostgreSQL;
SQLite's IMMEDIATE transactions admit one writer at a time), so two admins demoting each other at
the same moment cannot both succeed.
"""
from __future__ import annotations

from peewee import IntegrityError

import models
from errors import RuleError
from models import Region, User
from office import passwords

USERNAME = passwords.USERNAME


class OfficeError(RuleError):
    """A change to accounts or schemes that the office's rules forbid."""


def _office(kantor: str | None) -> str | None:
    if not kantor:
        return None
    if Region.get_or_none(Region.kode == kantor) is None:
        raise OfficeError(f"Kode kantor {kantor} tidak dikenal.", "kantor")
    return kantor


def _check_password(password: str, username: str | None = None) -> None:
    try:
        passwords.check_policy(password, "kata_sandi", username)
    except RuleError as exc:
        raise OfficeError(str(exc), exc.field) from None


def create_user(username: str, role: str, password: str, kantor: str | None = None) -> User:
    username = (username or "").strip().lower()
    if problem := passwords.username_problem(username):
        raise OfficeError(problem, "username")
    if role not in models.ROLES:
        raise OfficeError("Pilih peran: petugas, verifikator atau admin.", "role")
    _check_password(password, username)
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
    user = User.get_by_id(user_id)
    _check_password(password, user.username)
    user.change_password(password)  # also bumps the session epoch
    return user
