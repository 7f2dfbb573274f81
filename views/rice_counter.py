"""The distribution point's counter (loket): find a family by a member's NIK or its No. KK, see
what is due, and record the hand-over with one button.

Plain forms with Post/Redirect/Get, so it works without JavaScript; htmx only swaps the counter
block. Numbers never travel in a URL: the lookup is a POST and the family found is kept in the
session, its card number sealed. The rule against a second hand-over is the database's.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_login import current_user

from extensions import limiter
from formats import mask_name, to_wib, today, whole_number
from models import Person
from nik import NikError, clean, parse_nik, parse_no_kk
from office import audit
from rice import distribution
from rice import progress as rice_progress
from rice.models import (
    RETURN_REASONS,
    AlreadyHandedOver,
    Batch,
    Family,
    Handover,
    RiceError,
    format_kg,
)
from views.rice import helpers, programme_or_404
from web.desk import format_date
from web.forms import open_nik, seal_nik
from web.fragments import page_or_fragment
from web.gates import roles
from web.limits import LOKET
from web.security import audit_subject

bp = Blueprint("rice_counter", __name__, url_prefix="/beras")
bp.context_processor(helpers)

SETTINGS, FAMILY = "beras_loket", "beras_keluarga"
COUNTER_ROLES = ("petugas", "admin")


def _settings(programme) -> dict | None:
    """This counter's distribution point, stage and batch, as chosen by the petugas."""
    stored = session.get(SETTINGS)
    return stored if stored and stored.get("p") == programme.id else None


def _family(programme) -> tuple[Family | None, str | None]:
    """The family on screen and the NIK it was found by (who came to collect), if any."""
    stored = session.get(FAMILY)
    if not stored or stored.get("p") != programme.id:
        return None, None
    no_kk = open_nik(stored.get("kk"))
    family = (Family.get_or_none(Family.programme == programme.id, Family.no_kk == no_kk)
              if no_kk else None)
    return family, open_nik(stored.get("nik")) if stored.get("nik") else None


def _back(programme):
    return redirect(url_for("rice_counter.counter", programme_id=programme.id), code=303)


@bp.get("/<int:programme_id>/loket")
@roles(*COUNTER_ROLES)
def counter(programme_id):
    """The counter: its settings, the lookup form and the family found."""
    programme = programme_or_404(programme_id)
    settings = _settings(programme)
    family, _nik = _family(programme)
    view = rice_progress.family_view(programme, family) if family else None
    cleared, blocked, batch = {}, [], None
    for b in Batch.select().where(Batch.programme == programme.id).order_by(Batch.tahap,
                                                                             Batch.kode):
        if b.status == "layak":
            cleared.setdefault(b.tahap, []).append(b)
        else:
            blocked.append(b)
        if settings and b.id == settings["batch"]:
            batch = b
    if settings and (batch is None or batch.status != "layak"):
        # Its batch failed a cooking test since: this counter stops until another is chosen.
        flash(f"Batch {batch.kode if batch else ''} tidak boleh dibagikan lagi (gagal uji "
              "tanak). Pilih batch lain.", "galat")
        session.pop(SETTINGS, None)
        settings = batch = None
    return page_or_fragment("rice/counter.html", "loket", programme=programme,
                            settings=settings, batch=batch, view=view, cleared=cleared,
                            blocked=blocked, no_store=True)


@bp.post("/<int:programme_id>/loket/atur")
@roles(*COUNTER_ROLES)
def configure(programme_id):
    """Choose the distribution point and the batch (and so the stage) this counter hands out."""
    programme = programme_or_404(programme_id)
    titik = " ".join(request.form.get("titik", "").split())
    chosen = request.form.get("batch", "")
    batch = Batch.get_or_none(Batch.id == whole_number(chosen)) if whole_number(chosen) else None
    problem = None
    if not titik or len(titik) > 150:
        problem = "Isi nama titik penyaluran (paling banyak 150 huruf), misalnya Balai Desa Pakis."
    elif batch is None or batch.program_id != programme.id:
        problem = "Pilih batch beras yang dibagikan di loket ini."
    else:
        problem = distribution.batch_problem(batch, programme, batch.tahap, today())
    if problem:
        flash(problem, "galat")
    else:
        session[SETTINGS] = {"p": programme.id, "titik": titik, "tahap": batch.tahap,
                             "batch": batch.id}
    return _back(programme)


@bp.post("/<int:programme_id>/loket/cari")
@roles(*COUNTER_ROLES)
def lookup(programme_id):
    """Find the family by a member's NIK or the family card number (typed, never in a URL)."""
    programme = programme_or_404(programme_id)
    session.pop(FAMILY, None)
    number = clean(request.form.get("nomor"))
    try:
        if len(number) != 16 or not (number.isascii() and number.isdigit()):
            raise RiceError(f"Ketik 16 angka NIK atau No. KK (yang diketik {len(number)} "
                            "tanda).")
        # Every look-up of a number is counted per account and audited, found or not: only
        # families on this programme's list are shown (distribution.find_family).
        limiter.hit(LOKET)
        audit.record(current_user._get_current_object(), "loket.cari", audit_subject(
            "NIK/KK", number, f"program {programme.id}"))
        if Person.get_or_none(Person.nik == number) is not None:
            family, by_nik = distribution.find_family(programme, nik=number), number
        else:
            try:
                family = distribution.find_family(programme, no_kk=parse_no_kk(number))
            except RiceError:
                # Not a listed family card: a mistyped NIK gets the check's own message.
                parse_nik(number)
                raise
            by_nik = None
    except (RiceError, NikError) as exc:
        flash(str(exc), "galat")
        return _back(programme)
    session[FAMILY] = {"p": programme.id, "kk": seal_nik(family.no_kk),
                       "nik": seal_nik(by_nik) if by_nik else None}
    return _back(programme)


@bp.post("/<int:programme_id>/loket/serahkan")
@roles(*COUNTER_ROLES)
def hand_over(programme_id):
    """The one button: record that the family on screen received this counter's stage."""
    programme = programme_or_404(programme_id)
    settings = _settings(programme)
    family, by_nik = _family(programme)
    if settings is None or family is None:
        flash("Atur loket dan cari keluarganya dulu.", "galat")
        return _back(programme)
    if request.form.get("tahap") != str(settings["tahap"]):
        flash("Pengaturan loket baru saja berubah; periksa lagi tahap yang diserahkan.", "galat")
        return _back(programme)
    try:
        done = distribution.hand_over(programme, settings["tahap"], family.no_kk, settings["batch"],
                              petugas=current_user._get_current_object(),
                              titik=settings["titik"], nik_pengambil=by_nik)
    except AlreadyHandedOver as exc:
        first = exc.handover
        flash(f"Ditolak: tahap {first.tahap} sudah diserahkan kepada keluarga ini pada "
              f"{format_date(first.dicatat_at if first.sumber == 'loket' else first.tanggal)}"
              + (f" di {first.titik}" if first.titik else "") + ". Satu keluarga menerima "
              "satu kali per tahap.", "galat")
        return _back(programme)
    except RiceError as exc:
        flash(str(exc), "galat")
        return _back(programme)
    kpm = Person.get_or_none(Person.nik == family.nik)
    # The flash rides in the (signed, not encrypted) session cookie: a masked name only.
    flash(f"Tercatat: Tahap {done.tahap} — {programme.kg_label} diserahkan kepada keluarga "
          f"{mask_name(kpm.nama) if kpm else ''} pukul {to_wib(done.dicatat_at):%H.%M} WIB. "
          "Silakan layani keluarga berikutnya.")
    session.pop(FAMILY, None)
    return _back(programme)


@bp.post("/<int:programme_id>/loket/kembali")
@roles(*COUNTER_ROLES)
def record_return(programme_id):
    """The family on screen brings rice back: record how much and why (an open return)."""
    programme = programme_or_404(programme_id)
    family, _nik = _family(programme)
    tahap = request.form.get("tahap", "")
    handover = (Handover.get_or_none(Handover.programme == programme.id,
                                     Handover.no_kk == family.no_kk,
                                     Handover.tahap == whole_number(tahap))
                if family and whole_number(tahap) is not None else None)
    if handover is None:
        flash("Pengembalian hanya untuk tahap yang sudah diterima keluarga ini.", "galat")
        return _back(programme)
    try:
        gram = distribution.parse_kg(request.form.get("kg"), "Jumlah yang dikembalikan")
        ret = distribution.record_return(handover, gram, request.form.get("alasan", ""),
                                 request.form.get("catatan", ""),
                                 current_user._get_current_object())
    except RiceError as exc:
        flash(str(exc), "galat")
    else:
        flash(f"Pengembalian {format_kg(ret.gram)} tahap {handover.tahap} dicatat "
              f"({RETURN_REASONS[ret.alasan].lower()}); menunggu penggantian.")
    return _back(programme)


@bp.post("/<int:programme_id>/loket/selesai")
@roles(*COUNTER_ROLES)
def clear(programme_id):
    """Clear the screen for the next family."""
    programme = programme_or_404(programme_id)
    session.pop(FAMILY, None)
    return _back(programme)
