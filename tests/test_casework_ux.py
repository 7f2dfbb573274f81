"""Issue 17: what residents and staff tripped over in casework, and what they looked for."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

import models
from covering import scheme_verdicts, standing
from formats import long_date
from tests.conftest import add_person, login, new_nik
from tests.test_review import post, submit

KK = "3510160101200077"


@pytest.fixture
def reviewer(client, make_user):
    user = make_user("verif", "verifikator")
    login(client, "verif")
    return user


def _family_with_personal_scheme():
    """A family card whose one member holds a personal scheme (DISABILITAS-BWI)."""
    member = add_person(no_kk=KK, nama="ADI PRASETYO")
    models.enrol(member, "DISABILITAS-BWI", sumber="uji")
    subject = add_person(no_kk=KK, nama="BUDI SANTOSO")
    return member, subject


# 1. The case page states the family's situation, and each scheme's verdict -------------------

def test_standing_is_the_rule_the_decision_applies(app):
    member, subject = _family_with_personal_scheme()
    found = standing(subject)
    assert found.coverage.status == "belum-terdaftar" and found.member == (member,
                                                                           "DISABILITAS-BWI")
    schemes = {s.kode: s for s in models.Scheme.select()}
    verdicts = {s.kode: (ok, why) for s, ok, why in scheme_verdicts(found, schemes.values())}
    for kode, (ok, why) in verdicts.items():
        scheme = schemes[kode]
        if not scheme.aktif:
            continue
        if ok:
            continue
        # Every scheme the page refuses, the decision refuses with the same words.
        with pytest.raises(models.RegisterError) as refused:
            models.enrol(subject, scheme, sumber="uji")
        assert str(refused.value) == why
    assert verdicts["SEMBAKO-BWI"][0] is False and verdicts["RANTANG-KASIH"][0] is True


def test_case_page_names_the_member_and_disables_family_schemes(client, reviewer):
    member, subject = _family_with_personal_scheme()
    report = submit(nik=subject, nama="BUDI SANTOSO")
    page = client.get(f"/verifikasi/{report.kode}").get_data(as_text=True)
    assert "belum menerima bantuan apa pun" not in page
    assert f"anggota keluarganya (NIK {member}) sudah menerima DISABILITAS-BWI" in page
    assert re.search(r'<option value="SEMBAKO-BWI" disabled>', page)
    assert re.search(r'<option value="DISABILITAS-BWI">', page)
    verdict = re.search(r'<li data-skema="SEMBAKO-BWI" data-boleh="tidak">(.*?)</li>', page)
    assert verdict and "satu keluarga hanya boleh menerima satu bantuan" in verdict.group(1)
    assert 'data-skema="DISABILITAS-BWI" data-boleh="ya"' in page
    # What the page allows, the decision does.
    response = post(client, f"/verifikasi/{report.kode}/putusan",
                    {"putusan": "layak", "skema": "DISABILITAS-BWI"})
    assert response.status_code == 303
    assert models.covering(subject).skema == "DISABILITAS-BWI"


def test_warnings_to_check_leave_once_the_case_is_decided(client, reviewer):
    report = submit(nik=new_nik(), kategori="lansia-sebatang-kara")  # 46 years old per NIK
    page = client.get(f"/verifikasi/{report.kode}").get_data(as_text=True)
    assert "Periksa sebelum memutuskan" in page
    post(client, f"/verifikasi/{report.kode}/putusan", {"putusan": "tidak-layak",
                                                      "alasan": "mampu"})
    page = client.get(f"/verifikasi/{report.kode}").get_data(as_text=True)
    assert "Periksa sebelum memutuskan" not in page


# 3. A report already waiting: the check says it is being assessed, and until when ------------

def _check(client, nik, htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/cek", data={"nik": nik}, headers=headers)


@pytest.mark.parametrize("htmx", [False, True])
def test_check_says_a_report_is_being_assessed(client, app, htmx):
    report = submit(nik=new_nik(), nama="BUDI SANTOSO")
    response = _check(client, report.nik, htmx)
    html = response.get_data(as_text=True)
    assert "Laporan sedang dinilai" in html
    assert f"memutuskan paling lambat <b>{long_date(report.tenggat)}</b>" in html
    assert "Laporkan orang ini" not in html and "token_nik" not in html
    assert report.kode not in html and "TETANGGA" not in html
    if htmx:
        assert len(response.data) <= 1000


def test_kiosk_check_says_a_report_is_being_assessed(client, make_user):
    from tests.test_kiosk import petugas

    report = submit(nik=new_nik())
    petugas(client, make_user)
    from tests.conftest import csrf_token

    client.post("/kios/cek", data={"nik": report.nik, "csrf_token": csrf_token(client, "/kios")})
    html = client.get("/kios").get_data(as_text=True)
    assert "Laporan sedang dinilai" in html and long_date(report.tenggat) in html
    assert not re.search(rf'id="nik"[^>]* value="{report.nik}"', html)


# 2. An ended enrolment answers as "no longer enrolled since", without inviting a report -------

def test_check_of_an_ended_enrolment(client, app):
    import datetime

    died = add_person(no_kk=KK, nama="SUPARMI")
    moved = add_person(no_kk="3510160101200088", nama="JOKO")
    models.enrol(died, "PKH", sumber="uji", sejak=datetime.date(2025, 1, 1))
    models.enrol(moved, "RANTANG-KASIH", sumber="uji", sejak=datetime.date(2025, 1, 1))
    first = models.Enrolment.get(models.Enrolment.person == died).id
    second = models.Enrolment.get(models.Enrolment.person == moved).id
    models.end_enrolment(first, "Meninggal dunia", datetime.date(2026, 2, 20))
    models.end_enrolment(second, "Pindah domisili: ke Jember", datetime.date(2026, 2, 21))
    html = _check(client, died, htmx=True).get_data(as_text=True)
    assert "tidak lagi terdaftar di PKH sejak 20 Februari 2026" in html
    assert "Laporkan orang ini" not in html and "laporkan" not in html.lower()
    html = _check(client, moved, htmx=True).get_data(as_text=True)
    assert "tidak lagi terdaftar di RANTANG-KASIH sejak 21 Februari 2026" in html
    assert "Laporkan orang ini" in html


def test_check_names_the_enrolment_that_ended_last(client, app):
    """Of several ended enrolments the check names the last to end; once the person is enrolled
    again, the check says so and names none of them."""
    import datetime

    nik = add_person(no_kk="3510160101200089", nama="WAGIMAN")
    for scheme, ended in (("PKH", datetime.date(2025, 3, 1)),
                          ("RANTANG-KASIH", datetime.date(2026, 1, 9)),
                          ("PKH", datetime.date(2025, 11, 30))):
        enrolment = models.enrol(nik, scheme, sumber="uji", sejak=datetime.date(2024, 1, 1))
        models.end_enrolment(enrolment.id, "Pindah domisili: ke Jember", ended)
    html = _check(client, nik, htmx=True).get_data(as_text=True)
    assert "tidak lagi terdaftar di RANTANG-KASIH sejak 9 Januari 2026" in html
    models.enrol(nik, "PKH", sumber="uji", sejak=datetime.date(2026, 2, 1))
    html = _check(client, nik, htmx=True).get_data(as_text=True)
    assert "Sudah menerima bantuan" in html and "tidak lagi" not in html


# 2. Pergantian pengurus: the family scheme passes to another member in one step ---------------

@pytest.fixture
def admin(client, make_user):
    make_user("kepala", "admin")
    login(client, "kepala")
    return client


def _family_with_pkh():
    """A family card of two whose PKH is registered to the head, and the page that ends it."""
    import datetime

    head = add_person(no_kk=KK, nama="SUPARMI")
    wife = add_person(no_kk=KK, nama="SITI")
    enrolment = models.enrol(head, "PKH", sumber="impor", sejak=datetime.date(2024, 1, 1))
    return head, wife, enrolment, f"/admin/kepesertaan/{enrolment.id}/akhiri"


def _end_for_death(admin, path, heir):
    from tests.conftest import csrf_token

    return admin.post(path, data={"alasan": "meninggal", "tanggal": "2026-01-15",
                                  "penerus": heir, "csrf_token": csrf_token(admin, path)})


def test_family_scheme_passes_to_another_member_on_death(admin):
    import datetime

    head, wife, enrolment, path = _family_with_pkh()
    outsider = add_person(no_kk="3510160101200099", nama="LAIN")
    page = admin.get(path).get_data(as_text=True)
    assert f'<option value="{wife}">SITI (NIK {wife})</option>' in page and outsider not in page
    # Someone outside the card is refused, and nothing changes.
    response = _end_for_death(admin, path, outsider)
    assert response.status_code == 422 and "No. KK yang sama" in response.get_data(as_text=True)
    assert models.covering(head).status == "terdaftar"
    response = _end_for_death(admin, path, wife)
    assert response.status_code == 303
    ended = models.Enrolment.get_by_id(enrolment.id)
    assert ended.berakhir == datetime.date(2026, 1, 15)
    assert ended.alasan_berakhir == "Meninggal dunia"
    heir = models.Enrolment.get(models.Enrolment.person == wife)
    assert (heir.skema_kode, heir.sejak, heir.sumber, heir.family_kk) == (
        "PKH", datetime.date(2026, 1, 15), f"pergantian:{head}", KK)
    assert models.covering(head).status == "keluarga-terdaftar"  # the family keeps its aid
    html = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "dipindahkan ke anggota keluarga" in html


def test_pergantian_pengurus_leaves_one_audit_entry_without_a_nik(admin):
    """The hand-over is one step in the audit log: one row, the ended enrolment's action,
    naming both members by their HMAC (the log's search finds either), neither NIK in clear."""
    from peewee import fn

    from office.audit import AuditEntry
    from web.security import audit_subject

    head, wife, _enrolment, path = _family_with_pkh()
    last = AuditEntry.select(fn.MAX(AuditEntry.id)).scalar() or 0
    assert _end_for_death(admin, path, add_person(no_kk="3510160101200099")).status_code == 422
    assert not AuditEntry.select().where(AuditEntry.id > last).exists()  # refused: no row
    assert _end_for_death(admin, path, wife).status_code == 303
    [entry] = AuditEntry.select().where(AuditEntry.id > last)
    assert (entry.action, entry.actor) == ("kepesertaan.akhiri", "kepala")
    assert entry.subject == audit_subject(
        "NIK", head, f"PKH: meninggal, pergantian pengurus ke {audit_subject('NIK', wife)}")
    assert head not in entry.subject and wife not in entry.subject and KK not in entry.subject


# 6. The rice counter: a mistyped NIK is invalid, not "not a recipient"; the chart's scale -----

def test_rice_counter_says_a_nik_is_invalid(client, make_user):
    from tests.conftest import csrf_token
    from tests.test_rice import make_families, make_programme

    make_families(2)
    programme = make_programme()
    make_user("petugas1", role="petugas")
    login(client, "petugas1")
    base = f"/beras/{programme.id}/loket"
    typo = "3510161713800001"  # month 13
    response = client.post(f"{base}/cari", data={"csrf_token": csrf_token(client, base),
                                                 "nomor": typo}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Bulan lahir pada NIK tidak mungkin" in html
    assert "tidak terdaftar sebagai penerima" not in html


def test_rice_chart_is_scaled_to_the_stage_total():
    import datetime
    from types import SimpleNamespace

    from rice.chart import daily_chart

    day = datetime.date(2026, 11, 2)
    progress = SimpleNamespace(programme=SimpleNamespace(stage_numbers=[1, 2, 3]),
                               daily=[(day, {1: 7})], families=1000)
    chart = daily_chart(progress)
    assert chart.y_max == 1000
    bar = chart.bars[0]
    plot = chart.bottom - chart.top
    assert abs(bar["h"] - 0.007 * plot) < 0.01  # 0.7 % of a stage, not the full height


def test_rice_chart_words_are_page_text_not_svg_text(client, make_user):
    """Text inside the scaled SVG shrank to ~5 px on a phone: the drawing has none; its scale,
    dates and legend are HTML at the page's size."""
    from tests.test_rice import make_families, make_programme, passed_batch
    from tests.test_rice_views import sign_in, upload

    sign_in(client, make_user, "admin")
    programme = make_programme()
    batch = passed_batch(programme, 1)
    cards = make_families(4)
    day = models.today().isoformat()
    assert 'data-baru="4"' in upload(client, programme, "no_kk,tahap,tanggal,batch\n" + "".join(
        f"{kk},1,{day},{batch.kode}\n" for kk in cards))
    html = client.get(f"/beras/{programme.id}/kemajuan").get_data(as_text=True)
    figure = html[html.index("<figure>"):html.index("</figure>")]
    drawing = figure[figure.index("<svg"):figure.index("</svg>")]
    assert "<rect" in drawing and "<polyline" in drawing and "<text" not in drawing
    when = long_date(models.today())
    assert "Tinggi penuh = 4 keluarga" in figure and "kini 33,3%" in figure  # 4 of 4 x 3
    assert f'<p class="sumbu"><span>{when}</span><span>{when}</span></p>' in figure
    assert "<span>4 keluarga</span><span>100% jatah</span>" in figure and "Tahap 3." in figure


# 11. The tracking page: the decision's due date, then the delivery's --------------------------

def test_tracking_page_shows_both_deadlines(client, make_user):
    from cases import casework

    report = submit(nik=new_nik(birth=__import__("datetime").date(1950, 1, 1)),
                    kategori="lansia-sebatang-kara")
    html = client.get(f"/laporan/{report.kode}").get_data(as_text=True)
    due = long_date(report.tenggat)
    assert f"<dt>Keputusan tim</dt><dd>paling lambat {due}</dd>" in html
    assert "paling lambat 7 hari setelah diputuskan layak" in html
    decided = casework.decide_eligible(report, "RANTANG-KASIH", make_user("verif"))
    html = client.get(f"/laporan/{report.kode}").get_data(as_text=True)
    assert f"sudah diputuskan {long_date(decided.tanggal_putusan)}" in html
    assert f"<dt>Bantuan diserahkan</dt><dd>paling lambat {long_date(decided.tenggat)}</dd>" \
        in html


# 7. Language and form ---------------------------------------------------------------------------

def test_deactivated_account_is_told_only_after_the_right_password(client, make_user):
    from tests.conftest import csrf_token

    user = make_user("lama", role="petugas")
    user.aktif = False
    user.save()

    def attempt(password):
        return client.post("/masuk", data={"username": "lama", "password": password,
                                           "csrf_token": csrf_token(client, "/masuk")})

    wrong = attempt("salah-sekali").get_data(as_text=True)
    assert "dinonaktifkan" not in wrong and "kata sandi salah" in wrong
    right = attempt("rahasia-123")
    assert right.status_code == 200 and "Akun ini sudah dinonaktifkan" in right.get_data(
        as_text=True)
    assert client.get("/kios").status_code == 302


def test_admin_lands_on_admin_after_sign_in(client, make_user):
    make_user("kepala", "admin")
    response = login(client, "kepala")  # through the one-time code
    assert response.status_code == 303 and response.headers["Location"] == "/admin/"


def test_a_self_report_asks_for_the_nik_once(client):
    from tests.test_reports import submitted

    nik = new_nik()
    report, _html, _data = submitted(client, hubungan="diri-sendiri", nik=nik, pelapor_nik="")
    reporter = report.reporters.get()
    assert reporter.hubungan == "diri-sendiri" and reporter.nik == nik
    form = client.get("/lapor").get_data(as_text=True)
    assert "Wajib jika melaporkan diri sendiri" not in form


def test_cancelling_an_import_asks_first(client, make_user, app, monkeypatch, tmp_path):
    import os

    from imports import jobs
    from tests.conftest import csrf_token
    from tests.test_admin_import import _folder

    app.config["IMPORT_DIR"] = str(tmp_path / "impor")
    jobs.ImportJob.delete().execute()  # PostgreSQL: the table outlives each test
    make_user("kepala", "admin")
    login(client, "kepala")
    monkeypatch.setattr(jobs, "process_alive", lambda pid: True)
    job = jobs.create(_folder(app, "nik,no_kk,nama,alamat,kode_desa,skema\n"), "a.csv",
                      "kepala", False)
    jobs.ImportJob.update(pid=os.getpid(), host=jobs.HOST).where(
        jobs.ImportJob.id == job.id).execute()
    page = client.get(f"/admin/impor/{job.id}").get_data(as_text=True)
    assert f'href="/admin/impor/{job.id}/batal"' in page and "Batalkan impor…" in page
    confirm = client.get(f"/admin/impor/{job.id}/batal").get_data(as_text=True)
    assert "Batalkan impor a.csv?" in confirm and 'method="post"' in confirm
    assert jobs.get(job.id).active  # looking changes nothing
    response = client.post(f"/admin/impor/{job.id}/batal",
                           data={"csrf_token": csrf_token(client, f"/admin/impor/{job.id}")})
    assert response.status_code == 303
    jobs.finish(job.id, "dibatalkan")


def test_show_villages_button_only_without_javascript(client):
    html = client.get("/lapor").get_data(as_text=True)
    assert ('<noscript><button name="aksi" value="desa" class="kedua">Tampilkan desa</button>'
            '</noscript>') in html


def test_words_quotes_dates_and_brackets():
    from vocabulary import mid_sentence, scheme_label

    assert scheme_label("Rantang Kasih (makanan untuk lansia sebatang kara)", "RANTANG-KASIH") \
        == "Rantang Kasih (makanan untuk lansia sebatang kara; RANTANG-KASIH)"
    assert scheme_label("Program Keluarga Harapan", "PKH", "tingkat pusat") \
        == "Program Keluarga Harapan (PKH, tingkat pusat)"
    assert mid_sentence("Tidak berdomisili di Banyuwangi") == "tidak berdomisili di Banyuwangi"
    assert mid_sentence("ASN atau TNI") == "ASN atau TNI"


# Quotation marks: the interface quotes with “…”, never with straight "…". A quotation is a
# pair that opens after a space, a bracket or the start of a text: attributes (`="…"`) never do.
QUOTATION = re.compile(r'(?:^|(?<=[\s(\[]))"[^"\n]*[^\W\d_]{2}[^"\n]*"')
JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
SQL = re.compile(r"\b(?:SELECT|INSERT|UPDATE|DELETE|RETURNING|FROM|WHERE)\b")  # "column"
CODE = re.compile(r"`[^`]*`")  # a command to type, e.g. `pg_dump … "$DATABASE_URL"`
NOT_APP = {"tests", "bench", "node_modules", "__pycache__"}


def _visible_text(source: str) -> list:
    """A template's text as a reader sees it: no Jinja tags (an expression reads as `teks`),
    no tags or attributes, nothing inside script, style or code samples."""
    from html.parser import HTMLParser

    class Visible(HTMLParser):
        HIDDEN = {"script", "style", "code", "pre", "kbd", "samp"}

        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.hidden, self.text = 0, []

        def handle_starttag(self, tag, attrs):
            self.hidden += tag in self.HIDDEN

        def handle_endtag(self, tag):
            self.hidden -= tag in self.HIDDEN

        def handle_data(self, data):
            if not self.hidden:
                self.text.append(data)

    parser = Visible()
    parser.feed(JINJA.sub(lambda m: "teks" if m.group(0).startswith("{{") else "", source))
    parser.close()
    return parser.text


def _messages(path) -> list:
    """A module's string literals as (line, text), an f-string's fields as `…` (a field alone
    in straight quotes is code quoting a name); docstrings, SQL and `code` spans left out: they
    are not the interface's words."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef
                                | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(part.value if isinstance(part, ast.Constant) else "…"
                           for part in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in docstrings:
            text = node.value
        else:
            continue
        if not SQL.search(text):
            found.append((node.lineno, CODE.sub("", text)))
    return found


def test_the_interface_quotes_with_indonesian_quotation_marks():
    import os
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    straight = [f"{path.relative_to(root)}: {quote.group(0)}"
                for path in sorted((root / "templates").rglob("*.html"))
                for text in _visible_text(path.read_text(encoding="utf-8"))
                for quote in QUOTATION.finditer(text)]
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [d for d in subfolders if d not in NOT_APP and not d.startswith(".")]
        for path in (pathlib.Path(folder, name) for name in files if name.endswith(".py")):
            straight += [f"{path.relative_to(root)}:{line}: {quote.group(0)}"
                         for line, text in _messages(path)
                         for quote in QUOTATION.finditer(text)]
    assert straight == []
    # The rule itself: a quotation is found, an attribute or an Excel formula is not.
    assert _visible_text('<p class="a">centang "Evaluate formulas"</p>') == [
        'centang "Evaluate formulas"']
    assert QUOTATION.search('centang "Evaluate formulas"')
    assert not any(QUOTATION.search(t) for t in _visible_text(
        '{% block body_attrs %} class="meja"{% endblock %}<a href="{{ url }}" title="x y">'
        'ditulis <code>="3510…"</code> “CSV UTF-8”</a>'))


def test_check_names_a_bracketed_scheme_without_doubled_brackets(client, app):
    nik = add_person(no_kk="3510160101200066", nama="MBAH SUMI")
    models.enrol(nik, "RANTANG-KASIH", sumber="uji")
    html = _check(client, nik, htmx=True).get_data(as_text=True)
    assert "<b>Rantang Kasih (makanan untuk lansia sebatang kara; RANTANG-KASIH)</b>" in html
    assert ")) " not in html and ") (" not in html


def test_desk_and_public_pages_write_dates_alike(app):
    import datetime

    from web.desk import format_date
    from web.filters import tanggal

    day = datetime.date(2026, 11, 29)
    moment = datetime.datetime(2026, 11, 29, 7, 5)  # UTC
    assert format_date(day) == tanggal(day) == "29 November 2026"
    assert format_date(moment) == tanggal(moment) == "29 November 2026, 14.05 WIB"
    with pytest.raises(models.RegisterError, match="sudah berakhir pada 1 Februari 2026"):
        nik = add_person(no_kk="3510160101200055")
        models.enrol(nik, "RANTANG-KASIH", sumber="uji", sejak=datetime.date(2026, 1, 1))
        enrolment = models.Enrolment.get(models.Enrolment.person == nik)
        models.end_enrolment(enrolment.id, "Pindah domisili", datetime.date(2026, 2, 1))
        models.end_enrolment(enrolment.id, "Pindah domisili", datetime.date(2026, 2, 1))


def test_one_label_per_role_in_every_history(client, make_user):
    from cases import casework

    report = submit(nik=new_nik())
    casework.decide_ineligible(report, "mampu", make_user("verif"))
    login(client, "verif")
    desk = client.get(f"/verifikasi/{report.kode}").get_data(as_text=True)
    public = client.application.test_client().get(f"/laporan/{report.kode}").get_data(
        as_text=True)
    assert "<td>Tim verifikasi (verif)</td>" in desk and "(Tim verifikasi)" in public


@pytest.mark.skipif(shutil.which("lynx") is None, reason="lynx is missing (apt-get install lynx)")
def test_lynx_shows_neither_report_option_as_chosen(client):
    from tests.test_reports import submit as submit_form

    html = client.get("/lapor").get_data(as_text=True)
    assert not re.search(r'value="(diri-sendiri|orang-lain)" checked', html)
    text = subprocess.run(["lynx", "-dump", "-stdin", "-force_html", "-nolist"], input=html,
                          capture_output=True, text=True, check=True).stdout
    assert "( ) Diri sendiri ( ) Orang lain" in text and "(*) Belum dipilih" in text
    # What lynx sends for the group it ticked by itself is an empty choice: refused, in words.
    response, _ = submit_form(client, hubungan="")
    assert response.status_code == 200
    assert "Pilih apakah Anda melaporkan diri sendiri atau orang lain." in response.get_data(
        as_text=True)


def test_one_label_per_status_on_every_page(client, reviewer, app):
    """A status reads the same on the resident's tracking page, the reviewer's queue and the
    statistics: vocabulary.STATUSES, the one source."""
    import datetime

    from cases import casework
    from tests.test_admin_stats import charts

    app.config["STATS_PUBLIC_MAX_AGE"] = 0
    waiting = submit(nik=new_nik())
    eligible = casework.decide_eligible(
        submit(nik=new_nik(birth=datetime.date(1950, 1, 1)), kategori="lansia-sebatang-kara"),
        "RANTANG-KASIH", reviewer)
    anonymous = app.test_client()
    queue = client.get("/verifikasi").get_data(as_text=True)
    drawn = {label for label, _, _ in charts(anonymous.get("/statistik").get_data(
        as_text=True))["g-status"]}
    for report in (waiting, eligible):
        label = models.STATUSES[report.status]
        tracking = anonymous.get(f"/laporan/{report.kode}").get_data(as_text=True)
        assert f"<h2>{label}</h2>" in tracking
        row = re.search(rf'<tr data-kode="{report.kode}".*?</tr>', queue, re.S).group(0)
        assert f'<span class="lencana">{label}</span>' in row
        assert f'<option value="{report.status}">{label}</option>' in queue  # the filter
        assert label in drawn
    assert drawn == set(models.STATUSES.values())
