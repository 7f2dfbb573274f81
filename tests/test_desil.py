"""The DTSEN welfare rank (desil 1–10) per family: from the imports, the schemes' limits (PKH 4,
BPNT/Sembako 5, editable by admins), the reviewer's case page, and the statistics."""
from __future__ import annotations

import pytest

import models
from cases import casework
from imports import recipients as importer
from office.desil import FamilyDesil, desil_of, desil_problem
from tests.conftest import DESA, add_person, csrf_token, login, new_nik

KK1, KK2, KK3 = "3510160101200051", "3510160101200052", "3510160101200053"
HEADER = "NIK,NO KK,NAMA,KODE WILAYAH,SKEMA,DESIL"


def run(*rows: str, **kwargs):
    return importer.import_register(importer.read_text("\n".join((HEADER, *rows)) + "\n"),
                                    **kwargs)


def problems(result):
    return [(p.line, p.message) for p in result.problems]


def test_the_rule():
    assert desil_problem("PKH", 4, 4) is None and desil_problem("PKH", None, 9) is None
    assert desil_problem("PKH", 4, None) is None  # unknown desil: for a person to check
    assert desil_problem("PKH", 4, 5) == ("Keluarga ini desil 5; skema PKH hanya untuk keluarga "
                                          "desil 1–4 (DTSEN).")


def test_import_stores_desil_per_family_and_applies_limits(app):
    poor, richer, member = new_nik(), new_nik(), new_nik()
    result = run(f"{poor},{KK1},SITI,{DESA},PKH,3",
                 f"{richer},{KK2},BUDI,{DESA},PKH,06",
                 f"{member},{KK1},TONO,{DESA},,3")
    assert problems(result) == [(3, "Keluarga ini desil 6; skema PKH hanya untuk keluarga desil "
                                    "1–4 (DTSEN).")]
    assert models.Scheme.get_by_id("PKH").desil_maks == 4
    assert models.Scheme.get_by_id("BPNT").desil_maks == 5
    result = run(f"{poor},{KK1},SITI,{DESA},PKH,3", f"{richer},{KK2},BUDI,{DESA},BPNT,6",
                 f"{member},{KK1},TONO,{DESA},,3", skip_invalid=True)
    assert result.written and result.enrolled == 1 and result.skipped == 1
    assert desil_of(KK1) == 3 and desil_of(KK2) is None  # a refused row gives no desil
    assert models.covering(poor).skema == "PKH"
    # A later list without a desil column: the register's desil still decides.
    later = run(f"{richer},{KK2},BUDI,{DESA},,7")
    assert later.ok and desil_of(KK2) == 7
    text = f"nik,no_kk,nama,kode_desa,skema\n{richer},{KK2},BUDI,{DESA},BPNT\n"
    refused = importer.import_register(importer.read_text(text))
    assert problems(refused) == [(2, "Keluarga ini desil 7; skema BPNT hanya untuk keluarga "
                                     "desil 1–5 (DTSEN).")]


def test_bad_and_conflicting_desil_are_line_problems(app):
    result = run(f"{new_nik()},{KK1},SITI,{DESA},,11",
                 f"{new_nik()},{KK2},BUDI,{DESA},,2",
                 f"{new_nik()},{KK2},TONO,{DESA},,3",
                 f"{new_nik()},{KK3},TINI,{DESA},,x")
    assert problems(result) == [
        (2, "Desil 11 tidak dikenal: isi angka 1 sampai 10, atau kosongkan."),
        (4, f"Keluarga ini (No. KK {KK2}) sudah diberi desil 2 di baris 3; satu keluarga hanya "
            "punya satu desil."),
        (5, "Desil x tidak dikenal: isi angka 1 sampai 10, atau kosongkan."),
    ]
    assert FamilyDesil.select().count() == 0


def test_admin_sets_a_limit_on_the_scheme_page(client, make_user, app):
    make_user("kepala", "admin")
    login(client, "kepala")
    token = csrf_token(client, "/admin/skema/BST")
    bad = client.post("/admin/skema/BST", data={"nama": "BST", "manfaat": "", "desil_maks": "12",
                                                "csrf_token": token})
    assert bad.status_code == 422 and "Batas desil" in bad.get_data(as_text=True)
    assert client.post("/admin/skema/BST", data={"nama": "BST", "manfaat": "",
                                                 "desil_maks": "3", "csrf_token": token}
                       ).status_code == 303
    assert models.Scheme.get_by_id("BST").desil_maks == 3
    assert '<td>1–3</td>' in client.get("/admin/skema").get_data(as_text=True)
    client.post("/admin/skema/BST", data={"nama": "BST", "manfaat": "", "desil_maks": "",
                                          "csrf_token": token})
    assert models.Scheme.get_by_id("BST").desil_maks is None


def test_reviewer_sees_the_desil_and_which_schemes_it_allows(client, make_user, app):
    nik = add_person(no_kk=KK1, nama="SITI WAHYUNI")
    FamilyDesil.create(no_kk=KK1, desil=5, sumber="tes")
    report, _ = casework.submit_report(
        {"nik": nik, "nama": "SITI WAHYUNI", "no_kk": KK1, "alamat": "Jl. Mawar",
         "desa": DESA, "kategori": "kehilangan-penghasilan", "keterangan": ""},
        {"hubungan": "diri-sendiri", "nama": "SITI WAHYUNI", "nik": nik,
         "telepon": "081234567890"})
    make_user("verif", "verifikator")
    login(client, "verif")
    page = client.get(f"/verifikasi/{report.kode}").get_data(as_text=True)
    assert "Keluarga ini <b>desil 5</b>" in page
    assert ('<li data-skema="PKH" data-boleh="tidak">PKH: <b>tidak boleh</b>, desil 5 di atas '
            'batas desil 1–4.</li>') in page
    assert '<li data-skema="BPNT" data-boleh="ya">BPNT: boleh, desil 5 masuk batas' in page
    assert '<li data-skema="BST" data-boleh="ya">BST: boleh, tanpa batas desil.</li>' in page
    assert "(PKH, Pusat, keluarga) – di atas batas desil</option>" in page
    token = csrf_token(client, f"/verifikasi/{report.kode}")
    refused = client.post(f"/verifikasi/{report.kode}/putusan",
                          data={"putusan": "layak", "skema": "PKH", "csrf_token": token})
    assert "skema PKH hanya untuk keluarga desil 1–4" in refused.get_data(as_text=True)
    assert models.covering(nik).status == "belum-terdaftar"
    with pytest.raises(models.RegisterError, match="desil 5"):
        models.enrol(nik, "PKH", sumber="tes")
    assert models.enrol(nik, "BPNT", sumber="tes").skema_kode == "BPNT"


def test_statistics_by_desil(client, make_user, app):
    run(f"{new_nik()},{KK1},SITI,{DESA},PKH,2", f"{new_nik()},{KK1},TONO,{DESA},,2",
        f"{new_nik()},{KK2},BUDI,{DESA},,8", f"{new_nik()},{KK3},TINI,{DESA},RANTANG-KASIH,")
    make_user("kepala", "admin")
    login(client, "kepala")
    page = client.get("/admin/statistik").get_data(as_text=True)
    table = page.split('id="per-desil"')[1].split("</table>")[0]
    row2 = table.split('data-desil="2">')[1].split("</tr>")[0]
    assert row2.startswith("<td>2</td><td>1</td><td>1 (100%)</td>")
    assert row2.endswith("<td><b>1</b></td>")
    row8 = table.split('data-desil="8">')[1].split("</tr>")[0]
    assert row8.startswith("<td>8</td><td>1</td><td>0 (0%)</td>")
    unknown = table.split('data-desil="kosong">')[1].split("</tr>")[0]
    assert unknown.startswith("<td>Belum tercatat</td>") and "<td><b>1</b></td>" in unknown
