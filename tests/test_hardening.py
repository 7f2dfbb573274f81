"""Findings of the attack and fault run (issue 15): each test reproduces one finding."""
from __future__ import annotations

import re

import pytest

from formats import whole_number
from tests.conftest import DESA, csrf_token, login, new_nik
from tests.test_rice import make_programme


def sign_in(client, make_user, role):
    make_user(f"{role}1", role=role)
    login(client, f"{role}1")


# 9. One integer parser: digits outside ASCII never reach int().

@pytest.mark.parametrize("text", ["²", "٣", "１２", "-1", "1e3", "", None, "9" * 10])
def test_whole_number_refuses(text):
    assert whole_number(text) is None


def test_whole_number_reads_and_bounds():
    assert whole_number(" 12 ") == 12
    assert whole_number("12", 1, 10) is None and whole_number("0", 1) is None


def test_superscript_numbers_never_500(client, make_user):
    assert client.get(f"/daftar/{DESA}?hal=²").status_code == 200
    assert client.get("/sanggah/²").status_code == 404
    sign_in(client, make_user, "admin")
    assert client.get("/verifikasi?hal=²").status_code == 200
    token = csrf_token(client, "/beras/baru")
    response = client.post("/beras/baru", data={"csrf_token": token, "nama": "Beras",
                                                "skema": "PKH", "jumlah_tahap": "²", "kg": "10"})
    assert response.status_code in (200, 422) and "Jumlah tahap" in response.get_data(as_text=True)
    programme = make_programme()
    base = f"/beras/{programme.id}"
    for path, page, data in (
            (f"{base}/uji-tanak", f"{base}/uji-tanak", {"tahap": "²", "batch": "x"}),
            (f"{base}/loket/atur", f"{base}/loket", {"titik": "Balai desa", "batch": "³"}),
            (f"{base}/loket/kembali", f"{base}/loket", {"tahap": "²"}),
            (f"{base}/pengembalian/1/ganti", f"{base}/pengembalian", {"batch": "³"})):
        response = client.post(path, data={"csrf_token": csrf_token(client, page), **data})
        assert response.status_code < 500, path


# 11. A `next` with CR/LF after a successful sign-in: the home page, never a 500.

def test_next_with_line_break_signs_in_home(client, make_user):
    make_user("petugas1", role="petugas")
    token = csrf_token(client, "/masuk")
    response = client.post("/masuk?next=/kios%0d%0aSet-Cookie:%20x=1",
                           data={"csrf_token": token, "username": "petugas1",
                                 "password": "rahasia-123"})
    assert response.status_code == 303
    assert "\r" not in response.headers["Location"] and "Set-Cookie" not in response.headers[
        "Location"]


# 10. NUL bytes refused in multipart forms as in url-encoded ones (400, nothing stored).

@pytest.mark.parametrize("path", ["/lapor", "/masuk", "/cek"])
def test_nul_in_multipart_form_refused(client, path):
    response = client.post(path, data={"nik": "35101\x0060101800001", "nama": "A\x00B"},
                           content_type="multipart/form-data")
    assert response.status_code == 400


@pytest.mark.parametrize("body", [b"nik=35101%0060101800001", b"nik=3510\x00", b"n%00ik=1",
                                  b"nik=1&nama=A%00B"])
@pytest.mark.parametrize("path", ["/lapor", "/cek"])
def test_nul_in_url_encoded_form_refused(client, path, body):
    """As a browser sends a form (url-encoded, its length declared), a NUL byte sent as it is
    or %-encoded, in a value or a name, is refused before anything reads it."""
    response = client.post(path, data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


@pytest.mark.parametrize("body", [b"nik=3510%2500", b"nik=%25%30%30"])
def test_a_percent_sign_before_zeros_is_no_nul(client, body):
    assert client.post("/cek", data=body,
                       content_type="application/x-www-form-urlencoded").status_code == 200


# 12. A body past the limit is a 413 even when it comes chunked, without a Content-Length.

def chunked_post(client, path, body: bytes, content_type):
    import io
    return client.post(path, input_stream=io.BytesIO(body), content_type=content_type,
                       environ_overrides={"wsgi.input_terminated": True})


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=zz"])
def test_chunked_body_over_limit_is_413(client, content_type):
    junk = b"x" * (70 * 1024)
    if content_type.startswith("multipart"):
        body = (b'--zz\r\nContent-Disposition: form-data; name="nama"\r\n\r\nA\r\n--zz\r\n'
                b'Content-Disposition: form-data; name="cerita"\r\n\r\n' + junk + b"\r\n--zz--\r\n")
    else:
        body = b"nama=A&cerita=" + junk
    response = chunked_post(client, "/lapor", body, content_type)
    assert response.status_code == 413
    small = chunked_post(client, "/cek", b"nik=", "application/x-www-form-urlencoded")
    assert small.status_code < 500 and small.status_code != 413


# 18. Access log lines: one line per request, NIKs masked whatever separates their digits,
# tracking codes masked.

def test_access_log_escapes_controls_and_masks_nik_and_codes(tmp_path):
    import datetime

    from gunicorn.config import Config

    from web.redact import GunicornLogger, redact

    cfg = Config()
    cfg.set("accesslog", str(tmp_path / "a.log"))
    cfg.set("access_log_format", '%(h)s "%(m)s %(U)s" %(s)s "%(a)s"')
    logger = GunicornLogger(cfg)

    class Resp:
        status, sent, headers = "404 NOT FOUND", 10, []

    for path, shown in (
            ("/kios\r\n127.0.0.1 \"GET /admin\" 200", "/kios\\x0d\\x0a127.0.0.1"),
            ("/3510/1617/0580/0001", "/[NIK]"), ("/3510_1617_0580_0001", "/[NIK]"),
            ("/3510,1617,0580,0001", "/[NIK]"), ("/lacak/K7M2PQ4Z", "/lacak/[KODE]"),
            ("/sanggahan/k7m2pq4z", "/sanggahan/[KODE]"),
            ("/verifikasi/K7M2PQ4Z/putusan", "/verifikasi/[KODE]/putusan")):
        environ = {"REQUEST_METHOD": "GET", "RAW_URI": path, "PATH_INFO": path,
                   "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1",
                   "HTTP_USER_AGENT": "x\nforged", "REMOTE_ADDR": "127.0.0.1"}
        atoms = logger.atoms(Resp(), {}, environ, datetime.timedelta(seconds=0))
        assert atoms["U"].startswith(shown) and "\n" not in atoms["U"] + atoms["a"], path
        assert "K7M2" not in atoms["U"].upper() and "0580" not in atoms["U"]
    assert redact("nik 3510.1617.0580.0001 x") == "nik [NIK] x"


# 6. The audit log: account and scheme changes, ended enrolments, imports, exports and counter
# look-ups leave a row (no NIK in clear), listed for admins and kept AUDIT_RETENTION_DAYS.

def test_audit_log_records_and_lists_without_nik(client, make_user, runner):
    import datetime

    from office.audit import AuditEntry
    from tests.conftest import add_person
    from tests.test_rice import make_families

    sign_in(client, make_user, "admin")
    token = csrf_token(client, "/admin/pengguna")
    client.post("/admin/pengguna", data={"csrf_token": token, "username": "budi.giri",
                                         "role": "petugas", "kata_sandi": "kopi-sawah-12",
                                         "ulangi": "kopi-sawah-12"})
    client.post("/admin/skema/PKH", data={"csrf_token": token, "nama": "PKH",
                                          "manfaat": "Uang tunai", "desil_maks": "4"})
    client.get("/admin/ekspor/penerima.csv")
    programme = make_programme()
    card = make_families(1)[0]
    client.post(f"/beras/{programme.id}/loket/cari", data={"csrf_token": token, "nomor": card})
    add_person()
    actions = [row.action for row in AuditEntry.select().order_by(AuditEntry.id)]
    assert actions == ["akun.buat", "skema.ubah", "ekspor", "loket.cari"]
    assert all(card not in row.subject for row in AuditEntry.select())
    page = client.get("/admin/jejak?tindakan=loket.cari").get_data(as_text=True)
    assert "NIK/KK #" in page and "budi.giri (petugas)" not in page
    assert "admin1" in client.get("/admin/jejak?pelaku=admin1").get_data(as_text=True)
    AuditEntry.update(at=datetime.datetime(2000, 1, 1)).where(
        AuditEntry.action == "akun.buat").execute()
    result = runner.invoke(args=["anonymise-reports"])
    assert "1 catatan jejak audit" in result.output
    assert AuditEntry.select().where(AuditEntry.action == "akun.buat").count() == 0


# 1. Counter look-ups: per account limit, audited.

def test_counter_lookups_are_limited_per_account(client, make_user, app):
    from office.audit import AuditEntry
    from tests.test_rice import make_families

    app.config["RATELIMIT_LOKET"] = "3 per minute"
    sign_in(client, make_user, "petugas")
    programme = make_programme()
    cards = make_families(5)
    token = csrf_token(client, f"/beras/{programme.id}/loket")
    codes = [client.post(f"/beras/{programme.id}/loket/cari",
                         data={"csrf_token": token, "nomor": card}).status_code for card in cards]
    assert codes == [303, 303, 303, 429, 429]
    assert AuditEntry.select().where(AuditEntry.action == "loket.cari").count() == 3


# 7. One password policy: common and username-derived passwords refused, web and CLI alike;
# the CLI refuses a username the web would refuse.

@pytest.mark.parametrize("password", ["aaaaaaaaaaaa", "passwordpassword", "123456789012",
                                      "budi.giri1234", "budigiri12345"])
def test_weak_passwords_refused(password):
    from office.passwords import policy_problem
    assert policy_problem(password, "budi.giri")


def test_cli_refuses_weak_password_and_bad_username(runner):
    result = runner.invoke(args=["create-user", "Weak<b>User", "--role", "admin"],
                           input="kopi-sawah-12\nkopi-sawah-12\n")
    assert result.exit_code != 0 and "Nama pengguna" in result.output
    result = runner.invoke(args=["create-user", "budi", "--role", "admin"],
                           input="passwordpassword\npasswordpassword\n")
    assert result.exit_code != 0 and "mudah ditebak" in result.output


def test_web_refuses_username_plus_one(client, make_user):
    sign_in(client, make_user, "admin")
    token = csrf_token(client, "/admin/pengguna")
    response = client.post("/admin/pengguna", data={
        "csrf_token": token, "username": "kepala.desa.pakis", "role": "petugas",
        "kata_sandi": "kepala.desa.pakis1", "ulangi": "kepala.desa.pakis1"})
    assert response.status_code == 422 and "nama pengguna" in response.get_data(as_text=True)


def test_deactivated_account_sign_in_checks_the_password(client, make_user, monkeypatch):
    import models

    user = make_user("pergi", role="petugas")
    models.User.update(aktif=False).where(models.User.id == user.id).execute()
    checked = []
    original = models.User.check_password
    monkeypatch.setattr(models.User, "check_password",
                        lambda self, password: checked.append(1) or original(self, password))
    token = csrf_token(client, "/masuk")
    response = client.post("/masuk", data={"csrf_token": token, "username": "pergi",
                                           "password": "salah-sekali-99"})
    assert "kata sandi salah" in response.get_data(as_text=True) and checked == [1]


# 2. Scope: family members outside a scoped reviewer's kecamatan are masked on the case page;
# rice returns are listed for that kecamatan only.

def test_out_of_scope_family_members_are_masked(client, make_user):
    from tests.conftest import add_person
    from tests.test_review import OTHER_DESA, submit

    card = "3510010101200009"
    far = add_person(no_kk=card, nama="RAHASIA JAUH SEKALI", desa=OTHER_DESA)
    report = submit(no_kk=card)
    make_user("verif-kec", "verifikator", kantor="35.10.16")
    login(client, "verif-kec")
    page = client.get(f"/verifikasi/{report.kode_display}").get_data(as_text=True)
    assert far not in page and "RAHASIA JAUH SEKALI" not in page
    assert "di luar wilayah Anda: Kec. Pesanggaran" in page
    other = client.application.test_client()
    make_user("admin-all", "admin")
    login(other, "admin-all")
    assert far in other.get(f"/verifikasi/{report.kode_display}").get_data(as_text=True)


def test_out_of_scope_members_nik_is_masked_in_the_rules_text(client, make_user):
    """The family rule still explains itself to a scoped reviewer, without the NIK of a member
    who lives in another kecamatan: neither in the standing nor in the scheme list."""
    import models
    from tests.conftest import add_person
    from tests.test_review import OTHER_DESA, submit

    card = "3510010101200019"
    far = add_person(no_kk=card, nama="ANGGOTA JAUH", desa=OTHER_DESA)
    models.enrol(far, "DISABILITAS-BWI", sumber="uji")
    report = submit(no_kk=card)
    make_user("verif-kec", "verifikator", kantor="35.10.16")
    login(client, "verif-kec")
    page = client.get(f"/verifikasi/{report.kode_display}").get_data(as_text=True)
    assert far not in page
    assert f"NIK {far[:6]}********** di luar wilayah Anda) sudah menerima DISABILITAS-BWI" \
        in page
    assert page.count("********** di luar wilayah Anda") >= 2  # the standing, and each
    assert "Anda))" not in page  # family scheme's why; never doubled brackets
    # A family scheme held by a member elsewhere covers the reported NIK: masked the same way.
    card = "3510010101200029"
    holder = add_person(no_kk=card, nama="PENERIMA JAUH", desa=OTHER_DESA)
    report = submit(no_kk=card)
    models.enrol(holder, "PKH", sumber="uji")  # enrolled while the report waits
    page = client.get(f"/verifikasi/{report.kode_display}").get_data(as_text=True)
    assert holder not in page
    assert f"lewat NIK {holder[:6]}********** di luar wilayah Anda." in page


def test_rice_returns_scoped_to_the_reviewers_kecamatan(client, make_user):
    from rice import distribution
    from rice.models import Family
    from tests.test_rice import make_families, passed_batch

    programme = make_programme()
    cards = make_families(40)
    programme.sync_families()
    batch = passed_batch(programme, 1)
    for card in cards:
        distribution.record_return(distribution.hand_over(programme, 1, card, batch.id), 1000,
                                   "kuning")
    inside = {f.no_kk for f in Family.select().where(Family.kecamatan == "35.10.16")}
    assert 0 < len(inside) < len(cards)
    make_user("verif-kec", "verifikator", kantor="35.10.16")
    login(client, "verif-kec")
    page = client.get(f"/beras/{programme.id}/pengembalian").get_data(as_text=True)
    shown = {card for card in cards if card in page}
    assert shown == inside


# 3. A sealed NIK opens only for the client it was given to, and only for minutes; the staff
# session cookie is encrypted, not merely signed.

def test_sealed_nik_bound_to_client_and_minutes(app, client):
    import datetime

    import time_machine

    from web.forms import seal_nik

    nik = new_nik()
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        token = seal_nik(nik)

    assert nik in _report_form(client, token, "10.1.2.3")
    stranger = _report_form(client, token, "10.9.9.9")
    assert nik not in stranger and "Silakan isi NIK lagi" in stranger
    with time_machine.travel(datetime.datetime.now() + datetime.timedelta(minutes=20)):
        assert nik not in _report_form(client, token, "10.1.2.3")


def _report_form(client, token: str, address: str) -> str:
    """The report form a client at `address` gets for a sealed NIK."""
    return client.post("/lapor", data={"token_nik": token},
                       environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)


def test_a_checks_report_token_opens_only_for_the_client_that_checked(client):
    """The check seals the NIK for the client whose allowance it counted (an IPv4 address, an
    IPv6 /64): that client's report form opens with it, another client's asks for it again."""
    nik = new_nik()

    def checked_by(address):
        html = client.post("/cek", data={"nik": nik},
                           environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
        return re.search(r'name="token_nik" value="([^"]+)"', html).group(1)

    token = checked_by("10.1.2.3")
    assert f'value="{nik}"' in _report_form(client, token, "10.1.2.3")
    assert nik not in _report_form(client, token, "10.9.9.9")
    token = checked_by("2001:db8:1:2::5")
    assert f'value="{nik}"' in _report_form(client, token, "2001:db8:1:2::99")  # the same /64
    assert "Silakan isi NIK lagi" in _report_form(client, token, "2001:db8:1:3::5")


def test_sealed_tokens_open_only_for_their_purpose_whole_and_in_time(app):
    """What every sealed token promises: the text is not readable in it, and it opens only
    for the purpose it was made for, untouched, and (when asked) within its age."""
    import datetime

    import time_machine

    from web import tokens

    with app.app_context():
        token = tokens.seal("nik-test", "10.1.2.3|3510161705800001")
        assert "3510161705800001" not in token and token.isascii()
        assert tokens.unseal("nik-test", token, 900) == "10.1.2.3|3510161705800001"
        assert tokens.unseal("other-purpose", token) is None
        flipped = token[:30] + ("A" if token[30] != "A" else "B") + token[31:]
        assert tokens.unseal("nik-test", flipped) is None
        for junk in (None, "", "%%%", token[:20], "gAAAAA" + token):
            assert tokens.unseal("nik-test", junk) is None
        with time_machine.travel(datetime.datetime.now() + datetime.timedelta(minutes=16)):
            assert tokens.unseal("nik-test", token, 900) is None
            assert tokens.unseal("nik-test", token) is not None  # no age asked: at rest
        app.config["SECRET_KEY"] = "another-key"
        assert tokens.unseal("nik-test", token) is None


def test_tokens_sealed_by_the_earlier_release_still_open(app, client, make_user):
    """TOTP secrets stored before tokens moved from Fernet to AES-GCM keep working: the
    account signs in with the code of its stored secret."""
    import base64
    import hashlib

    import pyotp
    from cryptography.fernet import Fernet

    from web import tokens

    secret = pyotp.random_base32()
    with app.app_context():
        key = hashlib.sha256(b"totp-secret:" + str(app.config["SECRET_KEY"]).encode())
        old = Fernet(base64.urlsafe_b64encode(key.digest())).encrypt(secret.encode()).decode()
        assert tokens.unseal("totp-secret", old) == secret
        assert tokens.unseal("nik", old) is None
    user = make_user("lama", role="admin")
    user.totp_rahasia = old
    user.save()
    token = csrf_token(client, "/masuk")
    response = client.post("/masuk", data={"username": "lama", "password": "rahasia-123",
                                          "csrf_token": token})
    assert response.status_code == 303
    signed_in = client.post("/masuk/kode", data={"kode": pyotp.TOTP(secret).now(),
                                                 "csrf_token": token})
    assert signed_in.status_code == 303 and client.get("/verifikasi").status_code == 200

def test_staff_session_cookie_is_encrypted(client, make_user):
    import base64
    import zlib

    make_user("petugas1", role="petugas")
    login(client, "petugas1")
    nik = new_nik()
    token = csrf_token(client, "/kios")
    client.post("/kios/cek", data={"csrf_token": token, "nik": nik})
    cookie = client.get_cookie("sesi").value
    payload = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    try:
        raw = zlib.decompress(raw)
    except zlib.error:
        pass
    assert b"_user_id" not in raw and b"csrf_token" not in raw


# 4. The nightly retention run anonymises the objectors of decided objections too.

def test_anonymise_reports_covers_objectors(client, runner, make_user):
    import datetime

    from cases import objections
    from tests.test_objections import decide, enrolled, objection

    make_user("verif", "verifikator")
    login(client, "verif")
    decided = objection(enrolled("SATU"))
    assert decide(client, decided.kode, {"putusan": "pertahankan",
                                         "catatan": "Kata Pak RT aman."}).status_code == 303
    objections.Objection.update(tanggal_putusan=datetime.date(2020, 1, 1)).where(
        objections.Objection.id == decided.id).execute()
    result = runner.invoke(args=["anonymise-reports"])
    assert "1 penyanggah" in result.output, result.output
    assert [o.nama for o in objections.Objection.get_by_id(decided.id).objectors] == [""]


# 8. The objection quota is per phone number AND client: a stranger typing someone's number
# spends only the stranger's own count.

def test_stranger_cannot_spend_someone_elses_objection_quota(client, app):
    from cases import objections
    from tests.test_transparency import enrolled

    app.config["SANGGAH_PER_HARI"] = 2
    people = [enrolled(f"WARGA KE {i}") for i in range(4)]
    objector = {"alasan": "ganda", "keterangan": "", "nama": "A", "telepon": "081234567890"}
    for person in people[:2]:
        objections.submit_objection(person.id, objector, per_day=2, client="ip:10.6.6.6")
    with pytest.raises(objections.QuotaExceeded):
        objections.submit_objection(people[2].id, objector, per_day=2, client="ip:10.6.6.6")
    # The owner, from their own address, still has their whole allowance.
    objections.submit_objection(people[2].id, objector, per_day=2, client="ip:10.1.1.1")
    assert all("0812" not in q.telepon for q in objections.DailyQuota.select())


# 15. The CSV reader: an unterminated quote costs linear time and stops with a line-numbered
# problem; an over-long quoted field is a problem, not a crash; a huge one-line upload is read
# in bounded memory.

HEADER = "nik,no_kk,nama,alamat,kode_desa,skema\n"


def test_unterminated_quote_is_linear_and_line_numbered(app, tmp_path):
    import time

    from imports import recipients

    path = tmp_path / "kutip.csv"
    row = "3510161705800001,3510160101200001,SITI,Jl. Mawar,3510161001,PKH\n"
    path.write_text(HEADER + row + '3510161705800002,3510160101200001,"BUDI,Jl.,x,PKH\n'
                    + row * 60_000)
    started = time.perf_counter()
    result = recipients.import_register(str(path))
    assert time.perf_counter() - started < 5
    assert any("Baris 3" in p.message and "tanda kutip" in p.message for p in result.problems)
    assert not result.written


def test_over_long_field_is_a_problem_not_a_crash(tmp_path, runner):
    path = tmp_path / "panjang.csv"
    path.write_text(HEADER + '3510161705800001,3510160101200001,"' + "A" * 1_000_000
                    + '",Jl. Mawar,3510161001,PKH\n')
    result = runner.invoke(args=["import-data", str(path)])
    assert "Baris 2" in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_one_line_upload_is_read_in_bounded_memory(app, tmp_path):
    import tracemalloc

    from imports import recipients

    path = tmp_path / "satu.csv"
    path.write_text(HEADER.strip() + "," + "x" * 30_000_000)
    tracemalloc.start()
    result = recipients.import_register(str(path))
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20_000_000 and result.problems and not result.written


def test_handover_csv_with_over_long_field_is_a_problem(client, make_user):
    import io

    sign_in(client, make_user, "admin")
    programme = make_programme()
    body = 'no_kk,tahap,tanggal,batch\n"' + "9" * 200_000 + '",1,01-01-2026,X\n'
    response = client.post(f"/beras/{programme.id}/impor", data={
        "csrf_token": csrf_token(client, f"/beras/{programme.id}/impor"),
        "berkas": (io.BytesIO(body.encode()), "pos.csv")}, content_type="multipart/form-data")
    assert response.status_code < 500 and "Baris 2" in response.get_data(as_text=True)


# 16. Disk full: when the rate-limit storage fails, checks are still answered, sign-in stays
# limited, and /sehat says so.

class BrokenStorage:
    def __getattr__(self, name):
        def fail(*args, **kwargs):
            import sqlite3
            raise sqlite3.OperationalError("database or disk is full")
        return fail


def test_checks_answer_when_the_limit_storage_fails(app, client, monkeypatch):
    from extensions import limiter
    from tests.conftest import add_person

    nik = add_person()
    token = csrf_token(client, "/masuk")
    monkeypatch.setattr(limiter, "storage", BrokenStorage())
    try:
        response = client.post("/cek", data={"nik": nik})
        assert response.status_code in (200, 303)
        assert client.post("/masuk", data={"username": "x", "password": "y",
                                           "csrf_token": token}).status_code == 429
        health = client.get("/sehat").get_json()
        assert health["batas_permintaan"] != "ok" and health["status"] == "terganggu"
    finally:
        limiter.failed_at = None  # the worker's memory of the failure, shared by every test


def test_report_failure_says_it_cannot_save(client, monkeypatch):
    from peewee import OperationalError

    from cases import casework
    from tests.test_reports import report_data

    def full(*args, **kwargs):
        raise OperationalError("database or disk is full")
    monkeypatch.setattr(casework, "submit_report", full)
    response = client.post("/lapor", data=report_data(client))
    assert response.status_code == 503
    assert "tidak dapat menyimpan data saat ini" in response.get_data(as_text=True)



def test_objection_failure_says_it_cannot_save_and_keeps_what_was_typed(client, monkeypatch):
    from peewee import OperationalError

    from cases import objections
    from tests.test_transparency import enrolled, object_to

    def full(*args, **kwargs):
        raise OperationalError("database or disk is full")
    monkeypatch.setattr(objections, "submit_objection", full)
    response = object_to(client, enrolled(), keterangan="Sudah punya toko besar di pasar.")
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "tidak dapat menyimpan data saat ini" in page
    assert "Sudah punya toko besar di pasar." in page  # nothing typed is lost
    assert objections.Objection.select().count() == 0

# 17. `flask backup` under steady writes finishes and reports what the file holds.

def test_backup_under_write_load_finishes_and_counts_the_file(app, runner, tmp_path):
    import datetime
    import sqlite3
    import threading
    import time

    import models
    from nik import make_nik

    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("SQLite only (PostgreSQL: pg_dump)")
    rows = [{"nik": make_nik("351020", datetime.date(1940 + i // 9000, 1, 1), False,
                             1 + i % 9000),
             "no_kk": None, "nama": "X" * 100, "alamat": "Y" * 200, "desa": DESA}
            for i in range(40_000)]
    with models.db.atomic():
        for start in range(0, len(rows), 500):
            models.Person.insert_many(rows[start:start + 500]).execute()
    path = app.config["DATABASE_URL"].split("sqlite:///", 1)[1]
    stop = threading.Event()

    def write():
        connection = sqlite3.connect(path, timeout=5)
        deadline = time.monotonic() + 40  # a backup that restarts forever ends with the load
        while not stop.is_set() and time.monotonic() < deadline:
            connection.execute("UPDATE penduduk SET alamat = ? WHERE rowid = 1",
                               (str(time.monotonic()),))
            connection.commit()
            time.sleep(0.001)
        connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        started = time.perf_counter()
        result = runner.invoke(args=["backup", str(tmp_path / "c.db")])
        took = time.perf_counter() - started
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert took < 30
    held = sqlite3.connect(tmp_path / "c.db").execute("SELECT COUNT(*) FROM penduduk").fetchone()
    assert f"berisi {held[0]:,} penduduk".replace(",", ".") in result.output
    assert not (tmp_path / "c.db.sebagian").exists()


# 13. One CSV writer for every CSV: cells a spreadsheet would run as a formula are neutralised,
# in the raw-data export too, in an import's problems and rejected rows.

def test_every_csv_neutralises_formula_cells(app, tmp_path):
    import csv
    import io

    from imports import files as import_files
    from imports import recipients
    from office import exports

    out = io.StringIO()
    exports.SafeWriter(out).writerows([["=cmd|' /C calc'!A0", "+3510", "-1", "@SUM(A1)",
                                        "\tx", '="3510160101200001"', "Siti", 7, None]])
    cells = next(csv.reader([out.getvalue()]))
    assert cells == ["'=cmd|' /C calc'!A0", "'+3510", "'-1", "'@SUM(A1)", "'\tx",
                     '="3510160101200001"', "Siti", "7", ""]
    raw = "".join(exports.stream_csv(["nik", "nama"], [["3510160101200001", "=HYPERLINK(1)"]],
                                     spreadsheet=False))
    assert "'=HYPERLINK(1)" in raw and "3510160101200001" in raw
    folder = tmp_path / "tugas"
    folder.mkdir()
    (folder / import_files.UPLOAD).write_text(
        HEADER + "=1+1,3510160101200001,=HYPERLINK(2),Jl.,3510161001,PKH\n")
    result = recipients.import_register(str(folder / import_files.UPLOAD))
    import_files.write_problem_files(folder, result.problems)
    for name in (import_files.PROBLEMS, import_files.REJECTED):
        for row in csv.reader(io.StringIO((folder / name).read_text(encoding="utf-8-sig"))):
            assert not any(cell.startswith(("=H", "=1", "+", "@")) for cell in row), row


def test_import_data_on_a_full_disk_says_so_in_one_line(app, runner, tmp_path, monkeypatch):
    from peewee import OperationalError

    from imports import recipients

    def full(*args, **kwargs):
        raise OperationalError("database or disk is full")
    monkeypatch.setattr(recipients, "import_register", full)
    path = tmp_path / "daftar.csv"
    path.write_text(HEADER)
    result = runner.invoke(args=["import-data", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "tidak dapat menulis (database or disk is full)" in result.output
