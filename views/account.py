"""A staff member's own account: overview, password change, and the second factor (TOTP)."""
from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import InputRequired

from office.passwords import policy_problem
from views.auth import CodeForm, finish_login, pending_key, pending_target, pending_user
from web import limits, security, totp

bp = Blueprint("account", __name__)
CANDIDATE = "_2fa_baru"  # the new secret (sealed) between showing it and the first code


class PasswordForm(FlaskForm):
    lama = PasswordField("Kata sandi sekarang",
                         validators=[InputRequired("Isi kata sandi sekarang.")])
    baru = PasswordField("Kata sandi baru (minimal 12 karakter)",
                         validators=[InputRequired("Isi kata sandi baru.")])
    ulangi = PasswordField("Ulangi kata sandi baru",
                           validators=[InputRequired("Ulangi kata sandi baru.")])


def _key() -> str:
    if current_user.is_authenticated:
        return f"akun-id:{current_user.id}"
    return pending_key()


@bp.get("/akun")
@login_required
def overview():
    """Who is signed in, and the account's security settings."""
    return render_template("account/overview.html", user=current_user,
                           required=totp.required_for(current_user),
                           notices=get_flashed_messages(category_filter=["akun"]))


@bp.route("/akun/kata-sandi", methods=["GET", "POST"])
@login_required
@limits.code_limits(_key)
def password():
    """Change the password; every other session of this account ends."""
    form = PasswordForm()
    error = None
    if form.validate_on_submit():
        user = current_user._get_current_object()
        new = form.baru.data
        if not user.check_password(form.lama.data):
            error = "Kata sandi sekarang salah."
        elif problem := policy_problem(new, user.username):
            error = problem
        elif new != form.ulangi.data:
            error = "Kedua kata sandi baru tidak sama."
        elif new == form.lama.data:
            error = "Kata sandi baru harus berbeda dari yang sekarang."
        else:
            user.change_password(new)  # bumps the session epoch: every session ends...
            login_user(user)  # ...and this one continues under the new epoch
            security.start_session(user)
            flash("Kata sandi diganti. Semua sesi lain akun ini sudah diakhiri.", "akun")
            return redirect(url_for("account.overview"), code=303)
    return render_template("account/password.html", form=form, error=error)


def _enrolling_user():
    """The signed-in user, or an admin who must enrol before their first session starts."""
    if current_user.is_authenticated:
        return current_user._get_current_object(), False
    return pending_user(enrolling=True), True


@bp.route("/akun/kode-masuk", methods=["GET", "POST"])
@limits.code_limits(_key)
def enrol():
    """Turn on the second factor: the secret as text, an otpauth link and a QR code."""
    user, at_login = _enrolling_user()
    if user is None:
        session["sesi_berakhir"] = True
        return redirect(url_for("auth.login"), code=303)
    if user.has_totp and not at_login:
        return redirect(url_for("account.overview"), code=303)
    secret = totp.unseal(session.get(CANDIDATE))
    if secret is None:
        secret = totp.new_secret()
        session[CANDIDATE] = totp.seal(secret)
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        if totp.enrol(user, secret, form.kode.data):
            session.pop(CANDIDATE, None)
            if at_login:
                return finish_login(user, pending_target())
            flash("Verifikasi dua langkah aktif. Mulai sekarang, setiap kali masuk Anda "
                  "diminta kode dari aplikasi autentikator.", "akun")
            return redirect(url_for("account.overview"), code=303)
        error = ("Kode tidak cocok. Pastikan jam ponsel tepat, lalu ketik kode 6 angka yang "
                 "sedang tampil.")
    uri = totp.provisioning_uri(secret, user.username)
    return render_template("account/enrol.html", form=form, error=error, at_login=at_login,
                           secret=totp.grouped(secret), uri=uri, qr=totp.qr_svg(uri),
                           required=totp.required_for(user))


@bp.post("/akun/kode-masuk/matikan")
@login_required
@limits.code_limits(_key)
def disable():
    """Turn the second factor off (not for roles that require it); needs a current code."""
    user = current_user._get_current_object()
    form = CodeForm()
    if totp.required_for(user):
        flash("Untuk peran Anda, verifikasi dua langkah wajib dan tidak dapat dimatikan.", "akun")
    elif form.validate_on_submit() and totp.verify(user, form.kode.data):
        totp.disable(user)
        flash("Verifikasi dua langkah dimatikan.", "akun")
    else:
        flash("Kode salah; verifikasi dua langkah tetap aktif.", "akun")
        return redirect(url_for("account.overview"))  # 302: counted as a failed attempt
    return redirect(url_for("account.overview"), code=303)
