"""Forms shared by the views, and the sealed NIK token a check result hands to the report form."""
from __future__ import annotations

from flask import has_request_context
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, ValidationError

import models
from nik import NikError, clean, parse_nik, parse_no_kk
from sms.numbers import is_mobile
from web import tokens
from web.limits import client_key


def nik_validator(form, field):
    """Run nik.parse_nik and show its precise message beside the field."""
    try:
        field.data = parse_nik(field.data).nik
    except NikError as exc:
        raise ValidationError(str(exc)) from None


def optional_kk_validator(form, field):
    if not clean(field.data):
        field.data = None
        return
    try:
        field.data = parse_no_kk(field.data)
    except NikError as exc:
        raise ValidationError(str(exc)) from None


NIK_TOKEN = "nik-token"
# The forms anyone may send carry no session token: web/origin.py protects them instead.
ANONYMOUS = {"csrf": False}


def form_errors(exc) -> dict[str, str]:
    """{field: message} from a RuleError, for the error summary and the inline messages."""
    return {getattr(exc, "field", None) or "umum": str(exc)}


class CheckForm(FlaskForm):
    nik = StringField("NIK (16 angka)", validators=[nik_validator])


# A sealed NIK serves the next step of the same person's visit (a report after a check): a
# quarter of an hour, from the client it was given to (web.limits.client_key: the address, or
# the signed-in account), never a token copied elsewhere or kept for later.
NIK_TOKEN_MINUTES = 15


def seal_nik(nik: str, client: str | None = None) -> str:
    """Encrypt a NIK for a hidden field, so a check result never carries it in clear text; only
    the same client (`client`: client_key(), when the caller already asked) can open it."""
    return tokens.seal(NIK_TOKEN, f"{client if client is not None else _client()}|{nik}")


def open_nik(token: str | None, max_age: int = NIK_TOKEN_MINUTES * 60) -> str | None:
    """The NIK inside a token from seal_nik, or None when it is forged, older than max_age or
    was given to another client."""
    opened = tokens.unseal(NIK_TOKEN, token, max_age)
    client, _bar, nik = (opened or "").rpartition("|")
    return nik if opened and client == _client() else None


def _client() -> str:
    return client_key() if has_request_context() else ""


# --- The report form (lapor) --------------------------------------------------------------------

def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _choice(value):
    """`Diri sendiri`, `diri_sendiri` -> `diri-sendiri`: option codes typed by other tools."""
    if not isinstance(value, str):
        return value
    return "-".join(value.strip().lower().replace("_", " ").split())


def region_code(value: str | None) -> str:
    """`3510161001` or `35.10.16.1001` -> the dotted Kemendagri code the register stores."""
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    parts = [digits[0:2], digits[2:4], digits[4:6], digits[6:]]
    return ".".join(p for p in parts if p)


def _nik_of_reporter(form, field):
    """The reporter's own NIK: optional; for a self-report it is the subject's (validate)."""
    if not clean(field.data):
        field.data = None
        return
    try:
        field.data = parse_nik(field.data).nik
    except NikError as exc:
        raise ValidationError(str(exc).replace("NIK", "NIK pelapor", 1)) from None


def _phone(form, field):
    raw = field.data or ""
    number = "".join(ch for ch in raw if ch not in " -().")
    if not number:
        field.data = None
        return
    plus = number.startswith("+")
    digits = number[1:] if plus else number
    if not digits.isascii() or not digits.isdigit():
        raise ValidationError("Nomor HP hanya boleh berisi angka, contoh 0812 3456 7890.")
    if not 9 <= len(digits) <= 15:
        raise ValidationError(f"Nomor HP harus 9–15 angka, yang diisi {len(digits)} angka.")
    field.data = ("+" if plus else "") + digits


def sms_opt_in(phone: str):
    """Updates by SMS (`kabar_sms`) go to the number typed in the field `phone`: it must be
    there, and be a mobile number (declared before this field, so already cleaned)."""
    def check(form, field):
        if not field.data or form[phone].errors:
            return
        if not form[phone].data:
            raise ValidationError("Isi nomor HP Anda agar kabar dapat dikirim lewat SMS.")
        if not is_mobile(form[phone].data):
            raise ValidationError("Kabar SMS hanya dapat dikirim ke nomor HP (diawali 08 atau "
                                  "+628), bukan telepon rumah atau kantor.")
    return check


SMS_OPT_IN = "Kirim kabar lewat SMS ke nomor HP ini (kode lacak, putusan, penyaluran)"


def _one_of(choices: dict, message: str):
    def check(form, field):
        if field.data not in choices:
            raise ValidationError(message)
    return check


def _max_chars(limit: int, message: str):
    def check(form, field):
        if field.data and len(field.data) > limit:
            raise ValidationError(message.format(limit=limit, n=len(field.data)))
    return check


def _desa(form, field):
    """A desa or kelurahan of Banyuwangi; the kecamatan select only narrows the list."""
    if not (field.data or "").strip():
        field.data = None
        raise ValidationError("Pilih desa atau kelurahan tempat tinggalnya.")
    code = region_code(field.data)
    kecamatan = kecamatan_of_village(code)
    if kecamatan is None:
        field.data = None
        raise ValidationError("Desa/kelurahan itu tidak ada di Kabupaten Banyuwangi. "
                              "Pilih dari daftar.")
    chosen = form.kecamatan.data
    if chosen and chosen != kecamatan:
        field.data = None
        raise ValidationError("Desa yang dipilih tidak berada di kecamatan itu. "
                              "Pilih desa lagi.")
    field.data = code
    form.kecamatan.data = kecamatan


# Kemendagri codes never change meaning, so a village found once is remembered by the process
# (every report needs it); an unknown code is looked up again each time.
_village_kecamatan: dict[str, str] = {}


def kecamatan_of_village(code: str) -> str | None:
    """The kecamatan code of a desa/kelurahan code, or None when it is not a village here."""
    kecamatan = _village_kecamatan.get(code)
    if kecamatan is None:
        Region = models.Region
        kecamatan = (Region.select(Region.kecamatan).where(Region.kode == code,
                                                           Region.tingkat != "kecamatan")
                     .scalar())
        if kecamatan is not None:
            _village_kecamatan[code] = kecamatan
    return kecamatan


class ReportForm(FlaskForm):
    """A report about someone left out. CSRF is checked app-wide by CSRFProtect."""

    class Meta:
        csrf = False

    hubungan = StringField("Siapa yang Anda laporkan?", filters=[_choice], validators=[
        _one_of({"diri-sendiri": 1, "orang-lain": 1},
                "Pilih apakah Anda melaporkan diri sendiri atau orang lain.")])
    pelapor_nama = StringField("Nama Anda", filters=[_strip], validators=[
        DataRequired("Isi nama Anda (pelapor)."),
        _max_chars(150, "Nama Anda paling banyak {limit} huruf.")])
    pelapor_nik = StringField("NIK Anda", filters=[_strip], validators=[_nik_of_reporter])
    pelapor_telepon = StringField("Nomor HP Anda", filters=[_strip], validators=[_phone])
    kabar_sms = BooleanField(SMS_OPT_IN, validators=[sms_opt_in("pelapor_telepon")])
    nik = StringField("NIK orang yang dilaporkan", filters=[_strip],
                      validators=[nik_validator])
    nama = StringField("Nama lengkap sesuai KTP", filters=[_strip], validators=[
        DataRequired("Isi nama lengkap orang yang dilaporkan, sesuai KTP."),
        _max_chars(150, "Nama paling banyak {limit} huruf.")])
    no_kk = StringField("No. KK (Kartu Keluarga)", filters=[_strip],
                        validators=[optional_kk_validator])
    alamat = StringField("Alamat", filters=[_strip], validators=[
        DataRequired("Isi alamat: jalan atau dusun, RT/RW."),
        _max_chars(300, "Alamat paling banyak {limit} huruf.")])
    kecamatan = StringField("Kecamatan", filters=[lambda v: region_code(v) or None])
    kode_desa = StringField("Desa/kelurahan", validators=[_desa])
    kategori = StringField("Keadaan orang yang dilaporkan", filters=[_choice], validators=[
        _one_of(models.CATEGORIES, "Pilih keadaan orang yang dilaporkan.")])
    keterangan = TextAreaField("Ceritakan keadaannya", filters=[
        # Browsers send a line break as CR LF but count it as one character (maxlength).
        lambda v: v.replace("\r\n", "\n").strip() if isinstance(v, str) else v,
    ], validators=[_max_chars(500, "Keterangan paling banyak {limit} karakter; "
                                    "yang diisi {n} karakter. Persingkat ceritanya.")])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.hubungan.data == "diri-sendiri" and not self.pelapor_nik.errors:
            # Reporting oneself: the reporter *is* the subject, so their NIK is the one typed
            # once below; if typed here too, the two must agree (a mismatch almost always
            # means "orang lain" was meant).
            if not self.pelapor_nik.data:
                self.pelapor_nik.data = None if self.nik.errors else self.nik.data
            elif not self.nik.errors and self.pelapor_nik.data != self.nik.data:
                self.pelapor_nik.errors.append(
                    "Anda melaporkan diri sendiri, jadi NIK Anda harus sama dengan NIK orang "
                    "yang dilaporkan. Pilih “Orang lain” jika melaporkan orang lain.")
                ok = False
        return ok

    def show_as_typed(self) -> None:
        """Before re-rendering a failed form: text fields show exactly what was typed, not the
        normalised value (selects keep their normalised codes so the choice stays selected)."""
        for name in ("pelapor_nama", "pelapor_nik", "pelapor_telepon", "nik", "nama", "no_kk",
                     "alamat", "keterangan"):
            field = self[name]
            if field.raw_data:
                field.data = field.raw_data[0]

    def subject(self) -> dict:
        return {"nik": self.nik.data, "nama": self.nama.data, "no_kk": self.no_kk.data,
                "alamat": self.alamat.data, "desa": self.kode_desa.data,
                "kategori": self.kategori.data, "keterangan": self.keterangan.data or ""}

    def reporter(self) -> dict:
        return {"hubungan": self.hubungan.data, "nama": self.pelapor_nama.data,
                "nik": self.pelapor_nik.data, "telepon": self.pelapor_telepon.data,
                "kabar_sms": bool(self.kabar_sms.data)}
