"""Staff accounts: create, change role or office, reset a password, deactivate."""
from __future__ import annotations

from flask import abort, flash, get_flashed_messages, redirect, render_template, request, url_for

from models import Region, User
from office import accounts as office
from office import audit
from vocabulary import ROLE_LABELS
from web.forms import form_errors
from web.fragments import failed
from web.gates import admin_blueprint, me

bp = admin_blueprint("admin_accounts", __name__)



def _offices():
    """Offices for a select: the kecamatan offices, then the desa/kelurahan offices."""
    return (list(Region.kecamatan_list().select(Region.kode, Region.nama).tuples()),
            Region.village_choices())


def _names() -> dict[str, str]:
    return dict(Region.select(Region.kode, Region.nama).tuples())


@bp.get("/pengguna")
def users():
    """Every account, and the form for a new one."""
    return _users_page()


def _users_page(errors: dict | None = None, status: int = 200):
    accounts = User.select().order_by(User.aktif.desc(), User.role, User.username)
    return render_template("admin/pengguna.html", accounts=accounts, names=_names(),
                           offices=_offices(), ROLES=ROLE_LABELS, errors=errors or {},
                           form=request.form, notices=get_flashed_messages(
                               category_filter=["pengguna"])), status


@bp.post("/pengguna")
def create_user():
    """A new account with a first password that its owner changes at /akun."""
    form = request.form
    errors = {}
    if form.get("kata_sandi", "") != form.get("ulangi", ""):
        errors["ulangi"] = "Kedua kata sandi tidak sama."
    else:
        try:
            user = office.create_user(form.get("username", ""), form.get("role", ""),
                                      form.get("kata_sandi", ""), form.get("kantor") or None)
        except office.OfficeError as exc:
            errors = form_errors(exc)
        else:
            audit.record(me(), "akun.buat", f"{user.username} ({user.role})")
            flash(f"Akun {user.username} ({ROLE_LABELS[user.role].lower()}) dibuat. Berikan kata "
                  "sandinya secara langsung, bukan lewat pesan.", "pengguna")
            return redirect(url_for("admin_accounts.user", user_id=user.id), code=303)
    return _users_page(errors, failed())


def _user_or_404(user_id: int) -> User:
    user = User.get_or_none(User.id == user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/pengguna/<int:user_id>")
def user(user_id):
    """One account: its role and office, a new password, (de)activation."""
    return _user_page(user_id)


def _user_page(user_id: int, errors: dict | None = None, status: int = 200):
    return render_template("admin/pengguna_satu.html", account=_user_or_404(user_id),
                           names=_names(), offices=_offices(), ROLES=ROLE_LABELS,
                           errors=errors or {}, notices=get_flashed_messages(
                               category_filter=["pengguna"])), status


def _done(user_id: int, notice: str):
    flash(notice, "pengguna")
    return redirect(url_for("admin_accounts.user", user_id=user_id), code=303)


@bp.post("/pengguna/<int:user_id>/ubah")
def update_user(user_id):
    """Change the role or the office (the new role applies from the next sign-in)."""
    _user_or_404(user_id)
    try:
        updated = office.update_user(user_id, request.form.get("role", ""),
                                     request.form.get("kantor") or None)
    except office.OfficeError as exc:
        return _user_page(user_id, form_errors(exc), failed(409 if exc.field is None else 422))
    audit.record(me(), "akun.ubah", f"{updated.username} ({updated.role}, "
                 f"{updated.kantor_kode or 'tanpa kantor'})")
    return _done(user_id, f"Tersimpan: {ROLE_LABELS[updated.role].lower()}.")


@bp.post("/pengguna/<int:user_id>/kata-sandi")
def reset_password(user_id):
    """A new password; every session of the account ends."""
    account = _user_or_404(user_id)
    form = request.form
    if form.get("kata_sandi", "") != form.get("ulangi", ""):
        return _user_page(user_id, {"ulangi": "Kedua kata sandi tidak sama."}, failed())
    try:
        office.reset_password(account.id, form.get("kata_sandi", ""))
    except office.OfficeError as exc:
        return _user_page(user_id, form_errors(exc), failed())
    audit.record(me(), "akun.sandi", account.username)
    return _done(user_id, f"Kata sandi {account.username} diganti; semua sesinya berakhir.")


@bp.get("/pengguna/<int:user_id>/nonaktifkan")
def confirm_deactivate(user_id):
    """Are you sure? (a page of its own, with a POST form)"""
    return render_template("admin/pengguna_nonaktif.html", account=_user_or_404(user_id),
                           ROLES=ROLE_LABELS, errors={})


@bp.post("/pengguna/<int:user_id>/nonaktifkan")
def deactivate(user_id):
    """The account can no longer sign in; its sessions end at once. Its history stays."""
    account = _user_or_404(user_id)
    try:
        office.set_active(account.id, False)
    except office.OfficeError as exc:
        return render_template("admin/pengguna_nonaktif.html", account=account,
                               ROLES=ROLE_LABELS, errors=form_errors(exc)), failed(409)
    audit.record(me(), "akun.nonaktif", account.username)
    if account.id == me().id:
        return redirect(url_for("auth.login"), code=303)
    return _done(user_id, f"Akun {account.username} dinonaktifkan.")


@bp.post("/pengguna/<int:user_id>/aktifkan")
def activate(user_id):
    """Let a deactivated account sign in again."""
    account = _user_or_404(user_id)
    office.set_active(account.id, True)
    audit.record(me(), "akun.aktif", account.username)
    return _done(user_id, f"Akun {account.username} aktif lagi.")

