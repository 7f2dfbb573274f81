"""The reviewer's desk, shared by the report and objection case pages: who is deciding, their
kecamatan scope, the family table, dates in words, and the one decision flow.

A decision is a POST that either succeeds (Post/Redirect/Get without JavaScript, the updated case
in place under htmx) or re-renders the case with the problem next to its field: 422 for what the
reviewer can fix, 409 when the case or the register changed meanwhile.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, request, url_for
from flask_login import current_user
from peewee import JOIN

from covering import Standing
from errors import RuleError
from formats import mask_name, parse_date
from models import Enrolment, Person, Region, Scheme, User
from vocabulary import QUEUE_STAGES, STATUSES
from web.filters import tanggal
from web.fragments import failed, wants_fragment

REVIEWER_ROLES = ("verifikator", "admin")
FOR_REVIEWERS = "Halaman ini hanya untuk tim verifikasi."


class FormProblem(RuleError):
    """Something the reviewer left out or mistyped: always theirs to fix (422)."""


def me() -> User:
    return current_user._get_current_object()


def reviewer_scope() -> str | None:
    """A verifikator with an office sees only that kecamatan; admins see the whole kabupaten."""
    return current_user.kecamatan_scope if current_user.role == "verifikator" else None


def format_date(day) -> str:
    """`17 Mei 2020`; a timestamp (stored in UTC) is shown in WIB with its time: the `tanggal`
    filter of every page (web/filters.py), so the desk and the public pages read alike."""
    return tanggal(day) or "–"


def days_left_words(days: int | None) -> str:
    if days is None:
        return ""
    if days < 0:
        return f"terlambat {-days} hari"
    if days == 0:
        return "hari ini batas akhir (sisa 0 hari)"
    return f"sisa {days} hari"


def helpers() -> dict:
    """What the desk's templates use, as a blueprint context processor."""
    return {"tanggal": format_date, "sisa_hari": days_left_words, "STAGES": QUEUE_STAGES,
            "STATUSES": STATUSES}


def region_names(*codes) -> dict[str, str]:
    wanted = [c for c in codes if c]
    return dict(Region.select(Region.kode, Region.nama).where(Region.kode.in_(wanted))
                .tuples()) if wanted else {}


def family(no_kk: str, limit: int = 30) -> list:
    """Everyone the register lists on this family card, with what each is enrolled in.

    For a reviewer scoped to one kecamatan, a member living in another one (a report may name
    any No. KK) is shown masked, with their kecamatan: a NIK's region and a masked name, never
    the whole NIK or name. What they receive stays: the family rule needs it."""
    rows = list(
        Person.select(Person.nik, Person.nama, Person.desa, Scheme.kode.alias("skema"),
                      Scheme.nama.alias("skema_nama"), Scheme.tingkat, Scheme.satuan)
        .join(Enrolment, JOIN.LEFT_OUTER,
              on=((Enrolment.person == Person.nik) & Enrolment.berakhir.is_null()))
        .join(Scheme, JOIN.LEFT_OUTER, on=(Scheme.kode == Enrolment.scheme))
        .where(Person.no_kk == no_kk).order_by(Person.nik).limit(limit).namedtuples())
    scope = reviewer_scope()
    outside = [row for row in rows if scope and not row.desa.startswith(scope + ".")]
    if not outside:
        return rows
    names = region_names(*{row.desa[:8] for row in outside})
    return [row._replace(nik=row.nik[:6] + "*" * 10, nama=(
        f"{mask_name(row.nama)} (di luar wilayah Anda: Kec. "
        f"{names.get(row.desa[:8], row.desa[:8])})")) if row in outside else row
            for row in rows]


def scoped_standing(found: Standing) -> Standing:
    """A NIK's standing as the reviewer may read it: for one scoped to a kecamatan, the NIK of
    a family member living in another one (whose enrolment covers or constrains this one) is
    masked, as in `family`. Only what the page shows: the decision weighs the real standing."""
    scope = reviewer_scope()
    member = found.member[0] if found.member else None
    niks = [nik for nik in (found.coverage.via_nik, member) if nik]
    if not scope or not niks:
        return found
    homes = dict(Person.select(Person.nik, Person.desa).where(Person.nik.in_(niks)).tuples())

    def shown(nik):
        if not nik or homes.get(nik, "").startswith(scope + "."):
            return nik
        return f"{nik[:6]}{'*' * 10} di luar wilayah Anda"  # no brackets: the page has them

    return found._replace(
        coverage=found.coverage._replace(via_nik=shown(found.coverage.via_nik)),
        member=(shown(member), found.member[1]) if found.member else None)


def typed_day(raw: str | None, message: str, field: str = "tanggal"):
    """A date typed or picked in a decision form (None when left empty); FormProblem when it
    cannot be read."""
    raw = (raw or "").strip()
    if not raw:
        return None
    day = parse_date(raw)
    if day is None:
        raise FormProblem(message, field)
    return day


def decision_form():
    """The posted decision form, the decision chosen and the reviewer's note (1,000 chars)."""
    form = request.form
    return form, form.get("putusan", ""), form.get("catatan", "").strip()[:1000]


def decision(action: Callable[[], tuple[object, str]], *, render: Callable, reload: Callable,
             endpoint: str, category: str, form_name: str, form):
    """Run one decision. `action` returns (the updated case, the notice to show) or raises
    RuleError; `render(case, status=…, **extra)` draws the case page, `reload()` fetches the
    case afresh after a refusal."""
    try:
        updated, notice = action()
    except RuleError as exc:
        # A field problem is the reviewer's to fix (422); anything else is a conflict (409).
        status = 422 if exc.field or isinstance(exc, FormProblem) else 409
        return render(reload(), status=failed(status), error=str(exc), error_field=exc.field,
                      error_form=form_name, form=form)
    if wants_fragment():
        return render(reload(), notices=[notice])
    flash(notice, category)
    return redirect(url_for(endpoint, kode=updated.kode), code=303)


