"""Updates by SMS on a case: asked for on the report form (web and kiosk) or the objection form,
queued with the decision and the delivery, visible to staff with gammu's status, and never
holding a NIK or a full name."""
from __future__ import annotations

import datetime
import re

import pytest

import models
from cases import casework, objections, retention
from sms import worker
from sms.models import InboundMessage, OutboundMessage
from tests.conftest import DESA, add_person, csrf_token, login, new_nik
from tests.sms_support import assert_private, files_channel, receive
from tests.test_kiosk import kiosk_report, petugas
from web import sms_desk

PHONE = "0812 3456 7890"
NUMBER = "+6281234567890"


@pytest.fixture
def sms_on(app, tmp_path):
    app.config["SMS_URL"] = f"gammu-files://{tmp_path}/spool?settle=0"
    from extensions import limiter

    limiter.reset()
    return files_channel(tmp_path)


def report(client, **changes):
    data = {"hubungan": "orang-lain", "pelapor_nama": "Budi Santoso", "pelapor_nik": "",
            "pelapor_telepon": PHONE, "kabar_sms": "y", "nik": new_nik(),
            "nama": "SITI WAHYUNI", "no_kk": "", "alamat": "Jl. Mawar 1", "kecamatan": "",
            "kode_desa": DESA, "kategori": "lansia-sebatang-kara", "keterangan": ""}
    data.update(changes)
    return client.post("/lapor", data=data), data


def reported(client, **changes):
    response, data = report(client, **changes)
    assert response.status_code == 303, response.get_data(as_text=True)
    kode = re.search(r"/laporan/(\w{8})", response.headers["Location"]).group(1)
    return models.Report.by_code(kode), data


def messages(**where):
    query = OutboundMessage.select().order_by(OutboundMessage.id)
    for field, value in where.items():
        query = query.where(getattr(OutboundMessage, field) == value)
    return list(query)


def test_the_form_offers_updates_by_sms_only_when_the_channel_is_on(app, client, tmp_path):
    assert 'name="kabar_sms"' not in client.get("/lapor").get_data(as_text=True)
    app.config["SMS_URL"] = f"gammu-files://{tmp_path}"
    assert 'name="kabar_sms"' in client.get("/lapor").get_data(as_text=True)


def test_updates_need_a_mobile_number(client, sms_on):
    for phone, message in (("", "Isi nomor HP Anda agar kabar dapat dikirim lewat SMS."),
                           ("021 555 1234", "Kabar SMS hanya dapat dikirim ke nomor HP")):
        response, _ = report(client, pelapor_telepon=phone)
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)
    assert models.Report.select().count() == 0


def test_a_reporter_follows_the_case_from_receipt_to_delivery(client, make_user, sms_on):
    case, data = reported(client)
    receipt, = messages(laporan=case.id)
    assert receipt.nomor == NUMBER and receipt.jenis == "kabar" and receipt.status == "antri"
    assert receipt.teks.startswith(f"Cek Bansos: laporan Anda diterima, kode {case.kode_display}.")
    assert f"LACAK {case.kode}" in receipt.teks
    reviewer = make_user()
    decided = casework.decide_eligible(case, "RANTANG-KASIH", reviewer)
    casework.record_delivery(decided, reviewer)
    texts = [m.teks for m in messages(laporan=case.id)]
    assert len(texts) == 3
    assert "dinilai LAYAK, didaftarkan di RANTANG-KASIH" in texts[1]
    assert "bantuan sudah diserahkan" in texts[2]
    for text in texts:
        assert_private(text, (data["nik"], data["nama"]), ("", data["pelapor_nama"]))


def test_not_eligible_says_why(client, make_user, sms_on):
    case, _ = reported(client)
    casework.decide_ineligible(case, "asn-tni-polri", make_user())
    assert messages(laporan=case.id)[-1].teks == (
        f"Cek Bansos: laporan {case.kode_display} dinilai tidak layak. Alasan: Anggota "
        "keluarga ASN, TNI atau Polri.")


def test_no_message_without_the_tick(client, make_user, sms_on):
    case, _ = reported(client, kabar_sms="")
    casework.decide_ineligible(case, "mampu", make_user())
    assert messages() == []


def test_a_decision_that_fails_sends_nothing(client, make_user, sms_on):
    case, _ = reported(client)
    with pytest.raises(casework.CaseError):
        casework.decide_eligible(case, "PKH", make_user())  # a family scheme, no No. KK
    assert len(messages(laporan=case.id)) == 1  # the receipt only


def test_every_reporter_who_asked_hears_once(client, make_user, sms_on):
    nik = new_nik()
    case, _ = reported(client, nik=nik)
    reported(client, nik=nik, pelapor_telepon="+62 857 0000 0001")  # joins the open case
    reported(client, nik=nik, pelapor_telepon="085700000002", kabar_sms="")
    reported(client, nik=nik)  # the first reporter again, the same number
    casework.decide_ineligible(case, "mampu", make_user())
    decided = [m.nomor for m in messages(laporan=case.id) if "tidak layak" in m.teks]
    assert sorted(decided) == ["+6281234567890", "+6285700000001"]
    joined = [m.teks for m in messages(nomor="+6285700000001")][0]
    assert joined.startswith("Cek Bansos: laporan Anda digabung dengan laporan "
                             f"{case.kode_display}")


def test_an_automatic_rejection_is_the_receipt(client, sms_on):
    nik = add_person(nama="SITI WAHYUNI")
    models.enrol(nik, "RANTANG-KASIH", sumber="tes")
    case, _ = reported(client, nik=nik)
    receipt, = messages(laporan=case.id)
    assert "ditolak otomatis, orangnya sudah terdaftar di RANTANG-KASIH" in receipt.teks


def test_the_kiosk_takes_the_tick_too(client, make_user, sms_on):
    petugas(client, make_user)
    response, _ = kiosk_report(client, pelapor_telepon=PHONE, kabar_sms="y")
    assert response.status_code == 303
    case = models.Report.select().get()
    assert case.reporters[0].kabar_sms
    assert messages(laporan=case.id)[0].nomor == NUMBER


def test_staff_see_each_message_and_gammus_status_on_the_case(client, make_user, sms_on):
    case, _ = reported(client)
    make_user("verif2")
    login(client, "verif2")
    data = {"putusan": "tidak-layak", "alasan": "mampu", "csrf_token": csrf_token(client)}
    assert client.post(f"/verifikasi/{case.kode}/putusan", data=data).status_code == 303
    worker.hand_over(sms_on)
    first, second = messages(laporan=case.id)
    (sms_on.outbox / first.ref).rename(sms_on.sent / first.ref)  # gammu sent the receipt
    (sms_on.outbox / second.ref).rename(sms_on.error / second.ref)  # and failed the other
    assert worker.follow_up(sms_on) == 2
    html = client.get(f"/verifikasi/{case.kode}").get_data(as_text=True)
    table = html[html.index('id="sms-kasus"'):]
    assert "Terkirim (SendingOK)" in table and "Gagal dikirim (SendingError)" in table
    assert second.teks in table and NUMBER in table


def test_objectors_hear_of_the_decision(client, make_user, sms_on):
    nik = add_person(nama="KAYA RAYA", no_kk="3510160101209999")
    enrolment = models.enrol(nik, "RANTANG-KASIH", sumber="tes")
    data = {"alasan": "mampu", "keterangan": "", "nama": "WARGA PEDULI", "telepon": PHONE,
            "kabar_sms": "y", "csrf_token": csrf_token(client, "/")}
    response = client.post(f"/sanggah/{enrolment.id}", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    objection = objections.Objection.select().get()
    objections.keep(objection, make_user(), "")
    texts = [m.teks for m in messages(sanggahan_id=objection.id)]
    assert texts[0].startswith(f"Cek Bansos: sanggahan Anda diterima, kode "
                               f"{objection.kode_display}.")
    assert texts[1] == (f"Sanggahan {objection.kode_display}: penerima tetap terdaftar "
                        "(sanggahan tidak diterima).")
    other = models.enrol(add_person(nama="JUGA KAYA", no_kk="3510160101208888"),
                         "RANTANG-KASIH", sumber="tes")
    second, _ = objections.submit_objection(
        other.id, {"alasan": "pindah", "keterangan": "", "nama": "WARGA", "telepon": PHONE,
                   "kabar_sms": True})
    objections.end(second, make_user("verif3"), "pindah")
    assert "diterima: kepesertaan penerima diakhiri per" in messages(
        sanggahan_id=second.id)[-1].teks
    for text in texts:
        assert_private(text, (nik, "KAYA RAYA"), ("", "WARGA PEDULI"))
    # The reviewer sees both messages on the objection's page, with where each stands.
    make_user("verif4")
    login(client, "verif4")
    html = client.get(f"/verifikasi/sanggahan/{objection.kode}").get_data(as_text=True)
    table = html[html.index('id="sms-kasus"'):html.index("</table>", html.index('id="sms-kasus"'))]
    assert table.count('data-status="antri"') == 2
    assert all(text in table for text in texts)


def test_retention_forgets_the_numbers_and_old_received_messages(client, make_user, sms_on):
    case, _ = reported(client)
    casework.decide_ineligible(case, "mampu", make_user())
    models.Report.update(tanggal_putusan=models.today().replace(year=2020)).execute()
    receive(sms_on, "BANTUAN")
    worker.receive(sms_on, sms_desk.desk())
    old = InboundMessage.create(kunci="lama", pengirim="x", pengirim_samaran="+62812****0000",
                                teks="cek [16 angka]", hasil="dijawab",
                                diproses_at=datetime.datetime(2020, 1, 1))
    assert retention.anonymise(30) == 1
    assert {m.nomor for m in messages(laporan=case.id)} == {""}
    assert InboundMessage.get_or_none(InboundMessage.id == old.id) is None
    assert InboundMessage.select().count() == 1  # the recent one stays
