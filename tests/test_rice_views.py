"""Rice aid screens: who may do what, the counter without JavaScript and without numbers in
URLs, the progress page and its chart, the upload, and the judged scenario at small scale."""
from __future__ import annotations

import io
import re

import models
from rice import distribution as rice
from rice.models import Handover
from tests.conftest import csrf_token, login
from tests.test_rice import failed_batch, make_families, make_programme, passed_batch


def today() -> str:
    """Today as the lists write it, asked when used: a run may cross midnight (WIB)."""
    return models.today().strftime("%d-%m-%Y")


def sign_in(client, make_user, role):
    make_user(f"{role}1", role=role)
    login(client, f"{role}1")


def post(client, path, data, page=None, **kwargs):
    data = {"csrf_token": csrf_token(client, page or path), **data}
    return client.post(path, data=data, **kwargs)


def counter(client, programme, **form):
    return post(client, f"/beras/{programme.id}/loket/atur", form, f"/beras/{programme.id}/loket")


def hand_over_at_counter(client, programme, number, tahap):
    """Type the number, then press the one button; returns the counter page afterwards."""
    base = f"/beras/{programme.id}/loket"
    token = csrf_token(client, base)
    found = client.post(f"{base}/cari", data={"csrf_token": token, "nomor": number})
    assert found.status_code == 303 and found.headers["Location"] == base
    done = client.post(f"{base}/serahkan", data={"csrf_token": token, "tahap": str(tahap)})
    assert done.status_code == 303 and done.headers["Location"] == base
    return client.get(base).get_data(as_text=True)


def upload(client, programme, text, skip=False):
    data = {"csrf_token": csrf_token(client, f"/beras/{programme.id}/impor"),
            "berkas": (io.BytesIO(text.encode()), "pos.csv")}
    if skip:
        data["lewati"] = "1"
    return client.post(f"/beras/{programme.id}/impor", data=data,
                       content_type="multipart/form-data").get_data(as_text=True)


def test_roles(client, make_user):
    programme = make_programme()
    response = client.get(f"/beras/{programme.id}/loket")
    assert response.status_code == 302 and "/masuk" in response.headers["Location"]
    sign_in(client, make_user, "verifikator")
    assert client.get(f"/beras/{programme.id}/loket").status_code == 403
    assert client.get(f"/beras/{programme.id}/kemajuan").status_code == 200
    assert client.get(f"/beras/{programme.id}/uji-tanak").status_code == 200
    assert client.get("/beras/baru").status_code == 403
    other = client.application.test_client()
    make_user("petugas1", role="petugas")
    login(other, "petugas1")
    assert other.get(f"/beras/{programme.id}/uji-tanak").status_code == 403
    assert other.get(f"/beras/{programme.id}/impor").status_code == 403
    assert other.get(f"/beras/{programme.id}/loket").status_code == 200
    assert other.get("/beras/999").status_code == 404


def test_admin_creates_a_programme(client, make_user):
    make_families(3)
    sign_in(client, make_user, "admin")
    form = {"nama": "Bantuan Sosial Beras KPM PKH 2020", "skema": "PKH", "kg": "15",
            "gudang": "Gudang Bulog Banyuwangi", "jumlah_tahap": "2", "aksi": "tahap"}
    html = post(client, "/beras/baru", form).get_data(as_text=True)
    assert 'name="rencana_2"' in html and 'name="rencana_3"' not in html
    del form["aksi"]
    html = post(client, "/beras/baru", form).get_data(as_text=True)
    assert 'href="#rencana_1">Isi tanggal rencana tahap 1' in html
    response = post(client, "/beras/baru", {**form, "rencana_1": "2020-05-04",
                                             "rencana_2": "03-06-2020"})
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 keluarga penerima PKH masuk daftar" in html
    assert "3 keluarga × 2 tahap × 15 kg = <b>90 kg</b>" in html


def test_cooking_test_form_and_the_batch_status(client, make_user):
    programme = make_programme()
    sign_in(client, make_user, "verifikator")
    path = f"/beras/{programme.id}/uji-tanak"
    form = {"tahap": "1", "batch": "BWI-0520-07", "gudang": "Gudang Bulog", "tanggal": "",
            "tempat": "Aula Dinas Sosial", "hadir": "Dinas Sosial; pendamping PKH; Bulog",
            "hasil": "tidak-layak", "catatan": ""}
    html = post(client, path, form).get_data(as_text=True)
    assert "Tanggal uji tanak wajib diisi" in html
    form["tanggal"] = models.today().isoformat()
    html = post(client, path, form).get_data(as_text=True)
    assert "Catatan wajib diisi" in html
    response = post(client, path, {**form, "catatan": "Nasi menguning, berbau apek"})
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-batch="BWI-0520-07" data-status="tidak-layak"' in html
    assert "Nasi menguning, berbau apek" in html


def test_counter_works_without_javascript_and_keeps_numbers_out_of_urls(client, make_user):
    card = make_families(1)[0]
    programme = make_programme()
    batch = passed_batch(programme, 1)
    head = rice.Family.get(rice.Family.no_kk == card).nik
    sign_in(client, make_user, "petugas")
    base = f"/beras/{programme.id}/loket"
    assert 'name="nomor"' not in client.get(base).get_data(as_text=True)  # set up first
    counter(client, programme, titik="Balai Desa Pakis", batch=str(batch.id))
    token = csrf_token(client, base)
    found = client.post(f"{base}/cari", data={"csrf_token": token, "nomor": head})
    assert found.headers["Location"] == base
    page = client.get(base)
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert "KEPALA KELUARGA 1" in html and "Serahkan Tahap 1 — 15 kg" in html
    assert not re.search(r'(href|action)="[^"]*[0-9]{16}', html)
    client.post(f"{base}/serahkan", data={"csrf_token": token, "tahap": "1"})
    html = client.get(base).get_data(as_text=True)
    assert "Tercatat: Tahap 1 — 15 kg diserahkan kepada keluarga K****A K******A 1" in html
    assert "KEPALA KELUARGA 1</h2>" not in html  # a clean screen for the next family
    given = Handover.get()
    assert (given.titik, given.petugas.username, given.nik_pengambil, given.sumber) == (
        "Balai Desa Pakis", "petugas1", head, "loket")
    # By the family card this time; the stage shows as received, and a second press is refused.
    client.post(f"{base}/cari", data={"csrf_token": token, "nomor": card})
    assert 'data-tahap="1" data-diterima="ya"' in client.get(base).get_data(as_text=True)
    client.post(f"{base}/serahkan", data={"csrf_token": token, "tahap": "1"})
    assert "Ditolak: tahap 1 sudah diserahkan" in client.get(base).get_data(as_text=True)
    assert Handover.select().count() == 1
    client.post(f"{base}/cari", data={"csrf_token": token, "nomor": "12345"})
    assert "Ketik 16 angka NIK atau No. KK" in client.get(base).get_data(as_text=True)
    # The batch fails a cooking test later in the day: the counter stops handing it out.
    failed_batch(programme, 1, batch.kode)
    html = client.get(base).get_data(as_text=True)
    assert f"Batch {batch.kode} tidak boleh dibagikan lagi" in html and 'name="nomor"' not in html


def test_counter_fragment_for_htmx(client, make_user):
    programme = make_programme()
    sign_in(client, make_user, "petugas")
    response = client.get(f"/beras/{programme.id}/loket", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.startswith('<div id="loket">') and "<html" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_a_failed_cooking_test_keeps_the_counter_closed(client, make_user):
    card = make_families(1)[0]
    programme = make_programme()
    bad = failed_batch(programme, 1, "BWI-KUNING")
    sign_in(client, make_user, "petugas")
    base = f"/beras/{programme.id}/loket"
    html = client.get(base).get_data(as_text=True)
    assert "Belum ada batch beras yang lulus uji tanak" in html
    assert "tahap 1 batch BWI-KUNING (gagal uji tanak)" in html
    post(client, f"{base}/atur", {"titik": "Balai Desa", "batch": str(bad.id)}, "/lapor")
    assert "gagal uji tanak" in client.get(base).get_data(as_text=True)
    assert 'name="nomor"' not in client.get(base).get_data(as_text=True)
    assert Handover.select().where(Handover.no_kk == card).count() == 0


def test_return_and_replacement_at_the_counter(client, make_user):
    card = make_families(1)[0]
    programme = make_programme()
    batch = passed_batch(programme, 1)
    sign_in(client, make_user, "petugas")
    counter(client, programme, titik="Balai Desa", batch=str(batch.id))
    hand_over_at_counter(client, programme, card, 1)
    base = f"/beras/{programme.id}/loket"
    token = csrf_token(client, base)
    client.post(f"{base}/cari", data={"csrf_token": token, "nomor": card})
    client.post(f"{base}/kembali", data={"csrf_token": token, "tahap": "1", "kg": "20",
                                         "alasan": "kuning"})
    assert "paling banyak 15 kg" in client.get(base).get_data(as_text=True)
    client.post(f"{base}/kembali", data={"csrf_token": token, "tahap": "1", "kg": "5",
                                         "alasan": "kuning"})
    html = client.get(base).get_data(as_text=True)
    assert "Pengembalian 5 kg tahap 1 dicatat" in html and "menunggu penggantian" in html
    ret = rice.Return.get()
    returns_page = client.get(f"/beras/{programme.id}/pengembalian?status=terbuka")
    assert 'data-pengembalian="terbuka"' in returns_page.get_data(as_text=True)
    client.post(f"/beras/{programme.id}/pengembalian/{ret.id}/ganti",
                data={"csrf_token": token, "batch": str(batch.id), "kembali": "loket"})
    assert rice.Return.get_by_id(ret.id).tanggal_ganti == models.today()
    assert "Tidak ada pengembalian yang menunggu penggantian" in client.get(
        f"/beras/{programme.id}/pengembalian?status=terbuka").get_data(as_text=True)


def test_judged_scenario_at_small_scale(client, make_user):
    """300 PKH families, three stages of 15 kg, by CSV and at the counter: 13,500 kg exactly;
    a double hand-over refused; a failed cooking test blocks its stage; returns add up."""
    cards = make_families(300)
    # 50 look-ups in a few seconds: far above a real counter's pace (RATELIMIT_LOKET).
    client.application.config["RATELIMIT_LOKET"] = "1000 per minute"
    sign_in(client, make_user, "admin")
    programme = make_programme()
    batches = {1: passed_batch(programme, 1), 2: passed_batch(programme, 2)}
    # Stage 1: the warehouse's list for everyone.
    html = upload(client, programme, "no_kk,tahap,tanggal,batch,titik\n" + "".join(
        f"{kk},1,{today()},{batches[1].kode},Gudang Bulog\n" for kk in cards))
    assert 'data-baru="300"' in html
    # Stage 2: 30 families at the counter, then a list that repeats one of them.
    for kk in cards[:30]:
        counter(client, programme, titik="Balai Desa Pakis", batch=str(batches[2].id))
        assert "Tercatat: Tahap 2" in hand_over_at_counter(client, programme, kk, 2)
    text = "no_kk,tahap,tanggal,batch,titik\n" + "".join(
        f"{kk},2,{today()},{batches[2].kode},Kantor Pos\n" for kk in cards[29:])
    html = upload(client, programme, text)
    assert 'data-baru="0"' in html and "Baris 2: Keluarga ini sudah menerima tahap 2" in html
    assert 'data-baru="270"' in upload(client, programme, text, skip=True)
    # Stage 3: the first batch fails its cooking test and blocks the stage; a new one passes.
    bad = failed_batch(programme, 3, "BWI-APEK")
    html = upload(client, programme, "no_kk,tahap,tanggal,batch\n" + "".join(
        f"{kk},3,{today()},{bad.kode}\n" for kk in cards))
    assert 'data-baru="0"' in html and "gagal uji tanak" in html
    good = passed_batch(programme, 3, "BWI-GANTI")
    for kk in cards[:20]:
        counter(client, programme, titik="Balai Desa Pakis", batch=str(good.id))
        hand_over_at_counter(client, programme, kk, 3)
    assert 'data-baru="280"' in upload(client, programme, "no_kk,tahap,tanggal,batch\n" + "".join(
        f"{kk},3,{today()},{good.kode}\n" for kk in cards[20:]))
    # A return and its replacement.
    given = Handover.get(Handover.no_kk == cards[5], Handover.tahap == 1)
    rice.record_replacement(rice.record_return(given, 5_000, "apek"), batches[1].id)
    html = client.get(f"/beras/{programme.id}/kemajuan").get_data(as_text=True)
    assert 'data-jatah-gram="13500000" data-diserahkan-gram="13500000" data-belum-gram="0"' in html
    assert "300 keluarga × 3 tahap × 15 kg = 13.500 kg" in html
    assert html.count('data-dilayani="300" data-sasaran="300"') == 3
    assert "1 (5 kg diganti)" in html
    assert Handover.select().count() == 900
    assert Handover.select().where(Handover.sumber == "loket").count() == 50
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "<rect" in svg and "<polyline" in svg and "style=" not in html


def test_progress_fragment_and_empty_chart(client, make_user):
    programme = make_programme()
    sign_in(client, make_user, "verifikator")
    response = client.get(f"/beras/{programme.id}/kemajuan", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.startswith('<section id="kemajuan">') and "Belum ada penyerahan" in html


def test_a_spreadsheet_upload_on_the_rice_import_page(client, make_user, tmp_path):
    from tests.spreadsheets import write_ods

    cards = make_families(2)
    sign_in(client, make_user, "admin")
    programme = make_programme()
    batch = passed_batch(programme, 1)
    path = write_ods(tmp_path / "gudang.ods", [
        ["DAFTAR SERAH TERIMA BERAS"],  # a title row above the table
        ["NO KK", "TAHAP", "TANGGAL", "BATCH"],
        *([kk, "1", today(), batch.kode] for kk in cards),
    ])
    data = {"csrf_token": csrf_token(client, f"/beras/{programme.id}/impor"),
            "berkas": (io.BytesIO(path.read_bytes()), "gudang.ods")}
    html = client.post(f"/beras/{programme.id}/impor", data=data,
                       content_type="multipart/form-data").get_data(as_text=True)
    assert 'data-baru="2"' in html
    assert Handover.select().count() == 2
    from office.audit import AuditEntry  # an import is in the audit log, without the cards
    entry = AuditEntry.get(AuditEntry.action == "impor.beras")
    assert f"program {programme.id}, gudang.ods: 2 baris, disimpan, 2 penyerahan baru" \
        in entry.subject and not any(card in entry.subject for card in cards)
    data["berkas"] = (io.BytesIO(b"%PDF-1.4"), "surat.pdf")
    data["csrf_token"] = csrf_token(client, f"/beras/{programme.id}/impor")
    refused = client.post(f"/beras/{programme.id}/impor", data=data,
                          content_type="multipart/form-data").get_data(as_text=True)
    assert "Berkas harus CSV (.csv) atau spreadsheet" in refused


def test_unrecognised_columns_are_mapped_once_on_the_rice_import_page(client, make_user):
    """A hand-over file whose headers are not recognised: the page offers a small form (no
    JavaScript) to say what each column holds; once saved, the same file, and every later one
    with the same headers, imports."""
    cards = make_families(2)
    sign_in(client, make_user, "admin")
    programme = make_programme()
    batch = passed_batch(programme, 1)
    text = "Nomor Kartu;Ke;Hari;Karung\n" + "".join(
        f"{kk};1;{today()};{batch.kode}\n" for kk in cards)
    page = upload(client, programme, text)
    assert 'id="petakan"' in page and 'data-baru="0"' in page
    assert '<option value="">Abaikan</option>' in page and 'name="judul-3" type="hidden"' in page
    form = {"csrf_token": csrf_token(client, f"/beras/{programme.id}/impor"), "jumlah": "4",
            **{f"judul-{i}": title for i, title in enumerate(
                ["Nomor Kartu", "Ke", "Hari", "Karung"])}}
    incomplete = client.post(f"/beras/{programme.id}/impor/kolom",
                             data={**form, "kolom-0": "no_kk", "kolom-1": "tahap"})
    assert incomplete.status_code == 422
    assert "tidak ditemukan di baris judul" in incomplete.get_data(as_text=True)
    saved = client.post(f"/beras/{programme.id}/impor/kolom", data={
        **form, "kolom-0": "no_kk", "kolom-1": "tahap", "kolom-2": "tanggal",
        "kolom-3": "batch"})
    assert saved.status_code == 200 and 'id="pemetaan-tersimpan"' in saved.get_data(as_text=True)
    assert 'data-baru="2"' in upload(client, programme, text)
    assert Handover.select().count() == 2
