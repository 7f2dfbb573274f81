"""Rice aid rules: the programme's family list, the cooking test gate, one hand-over per stage
and family, returns and replacements, and totals that reconcile exactly."""
from __future__ import annotations

import datetime

import pytest

import models
from nik import make_nik
from rice import distribution as rice
from rice import progress as rice_progress
from rice.models import AlreadyHandedOver, Handover, RiceError
from tests.conftest import add_person

STAGE_KG = 15_000  # grams
PLAN = [datetime.date(2020, 5, 4), datetime.date(2020, 6, 3), datetime.date(2020, 7, 3)]


def kk_of(i: int) -> str:
    return f"351016010120{i:04d}"


def make_families(n: int, scheme: str = "PKH", start: int = 1) -> list[str]:
    """n families enrolled in `scheme`, spread over desa of several kecamatan; their cards."""
    villages = [kode for (kode,) in models.Region.select(models.Region.kode)
                .where(models.Region.tingkat != "kecamatan").order_by(models.Region.kode)
                .tuples()][::20]
    people, enrolments = [], []
    for i in range(start, start + n):
        nik = make_nik("351016", datetime.date(1970, 1, 1), False, i)
        people.append({"nik": nik, "no_kk": kk_of(i), "nama": f"KEPALA KELUARGA {i}",
                       "alamat": f"Jl. Padi {i}", "desa": villages[i % len(villages)]})
        enrolments.append({"person": nik, "scheme": scheme, "family_kk": kk_of(i),
                           "sejak": datetime.date(2020, 1, 1), "sumber": "tes"})
    with models.db.atomic():
        for chunk in range(0, n, 100):
            models.Person.insert_many(people[chunk:chunk + 100]).execute()
            models.Enrolment.insert_many(enrolments[chunk:chunk + 100]).execute()
    return [kk_of(i) for i in range(start, start + n)]


def make_programme(user=None) -> rice.Programme:
    return rice.create_programme("Bantuan Sosial Beras KPM PKH 2020", "PKH", 3, STAGE_KG,
                                 "Gudang Bulog Banyuwangi", PLAN, user)


def passed_batch(programme, tahap: int, kode: str | None = None) -> rice.Batch:
    test = rice.record_test(programme, tahap, kode or f"BWI-T{tahap}", "Gudang Bulog",
                            models.today(), "Kantor Dinas Sosial",
                            "Dinas Sosial, pendamping PKH, Bulog", "layak")
    return test.batch


def failed_batch(programme, tahap: int, kode: str) -> rice.Batch:
    return rice.record_test(programme, tahap, kode, "Gudang Bulog", models.today(),
                            "Kantor Dinas Sosial", "Dinas Sosial", "tidak-layak",
                            "Beras menguning dan berbau apek").batch


def independent_remaining(programme) -> int:
    """Family-stages still due, counted straight from the list without the hand-over counts."""
    total = 0
    for tahap in programme.stage_numbers:
        total += models.db.execute_sql(
            f"SELECT COUNT(*) FROM penerima_beras r WHERE r.program_id = {models.db.param} "
            "AND NOT EXISTS (SELECT 1 FROM serah_beras h WHERE h.program_id = r.program_id "
            f"AND h.no_kk = r.no_kk AND h.tahap = {models.db.param})",
            (programme.id, tahap)).fetchone()[0]
    return total


def test_programme_list_is_every_family_enrolled_in_the_scheme(app):
    cards = make_families(5)
    make_families(2, scheme="BST", start=100)  # another scheme's families are not due
    personal = add_person(no_kk="3510160909200009")
    models.enrol(personal, "RANTANG-KASIH", "tes")  # a personal scheme: no family card
    ended = make_families(1, start=200)[0]
    models.Enrolment.update(berakhir=datetime.date(2020, 2, 1)).where(
        models.Enrolment.family_kk == ended).execute()
    programme = make_programme()
    listed = {f.no_kk for f in rice.Family.select().where(rice.Family.programme == programme)}
    assert listed == set(cards)
    assert [(s.tahap, s.rencana) for s in programme.stages.order_by(rice.Stage.tahap)] == [
        (1, PLAN[0]), (2, PLAN[1]), (3, PLAN[2])]
    assert programme.kg_label == "15 kg" and programme.daftar_at is not None
    # A family enrolled later joins on the next update (or when it comes to the counter).
    later = make_families(2, start=300)
    assert programme.sync_families() == 2 and programme.sync_families() == 0
    assert programme.family_count() == 7
    assert rice.find_family(programme, no_kk=later[0]).no_kk == later[0]


def test_a_family_enrolled_after_the_list_is_found_at_the_counter(app):
    programme = make_programme()
    assert programme.family_count() == 0
    card = make_families(1)[0]
    member = add_person(no_kk=card, nama="ANAK")
    assert rice.find_family(programme, nik=member).no_kk == card
    assert programme.family_count() == 1
    with pytest.raises(RiceError, match="tidak terdaftar sebagai penerima PKH"):
        rice.find_family(programme, no_kk="3510169999999999")
    with pytest.raises(RiceError, match="tidak ada di data penduduk"):
        rice.find_family(programme, nik=make_nik("351016", datetime.date(1990, 1, 1), 0, 77))


def test_programme_rules(app):
    with pytest.raises(RiceError, match="perorangan"):
        rice.create_programme("Beras", "RANTANG-KASIH", 3, STAGE_KG, "Gudang", PLAN)
    with pytest.raises(RiceError, match="urut"):
        rice.create_programme("Beras", "PKH", 3, STAGE_KG, "Gudang", PLAN[::-1])
    with pytest.raises(RiceError, match="setiap tahap"):
        rice.create_programme("Beras", "PKH", 3, STAGE_KG, "Gudang", PLAN[:2])
    assert rice.parse_kg("15") == 15_000 and rice.parse_kg("2,5 kg") == 2_500
    for bad in ("", "abc", "0", "-1", "1,0005"):
        with pytest.raises(RiceError):
            rice.parse_kg(bad)
    assert rice.format_kg(3_005_820_000) == "3.005.820 kg" and rice.format_kg(2_500) == "2,5 kg"


def test_a_stage_is_handed_out_only_from_a_batch_that_passed_its_cooking_test(app):
    card = make_families(1)[0]
    programme = make_programme()
    untested = rice.Batch.create(programme=programme.id, tahap=1, kode="BARU", gudang="G")
    with pytest.raises(RiceError, match="belum diuji tanak"):
        rice.hand_over(programme, 1, card, untested.id)
    bad = failed_batch(programme, 1, "BWI-KUNING")
    with pytest.raises(RiceError, match="gagal uji tanak"):
        rice.hand_over(programme, 1, card, bad.id)
    good = passed_batch(programme, 1)
    with pytest.raises(RiceError, match="tahap 2"):
        rice.hand_over(programme, 2, card, good.id)  # a stage 1 batch for stage 2
    with pytest.raises(RiceError, match="Tahap harus 1 sampai 3"):
        rice.hand_over(programme, 4, card, good.id)
    assert Handover.select().count() == 0
    assert rice.hand_over(programme, 1, card, good.id, titik="Balai Desa").tahap == 1
    # A later failed test blocks the batch for good; a pass afterwards does not clear it.
    failed_batch(programme, 1, good.kode)
    passed_batch(programme, 1, good.kode)
    assert rice.Batch.get_by_id(good.id).status == "tidak-layak"
    other = make_families(1, start=2)[0]
    with pytest.raises(RiceError, match="gagal uji tanak"):
        rice.hand_over(programme, 1, other, good.id)


def test_cooking_test_needs_its_facts(app):
    programme = make_programme()
    base = dict(programme=programme, tahap=1, kode="B1", gudang="Gudang",
                tanggal=models.today(), tempat="Balai", hadir="Dinas Sosial", hasil="layak")
    for change, field in ((dict(tanggal=models.today() + datetime.timedelta(days=1)),
                           "tanggal"), (dict(hadir=" "), "hadir"), (dict(hasil="bagus"), "hasil"),
                          (dict(tahap=5), "tahap"), (dict(hasil="tidak-layak"), "catatan")):
        with pytest.raises(RiceError) as caught:
            rice.record_test(**(base | change))
        assert caught.value.field == field
    test = rice.record_test(**(base | {"kode": " b1 "}))
    assert test.batch.kode == "B1" and test.batch.lulus_tanggal == models.today()


def test_second_hand_over_of_a_stage_is_refused_by_the_database(app):
    card = make_families(1)[0]
    programme = make_programme()
    batch = passed_batch(programme, 1)
    first = rice.hand_over(programme, 1, card, batch.id, titik="Balai Desa Pakis")
    with pytest.raises(AlreadyHandedOver) as caught:
        rice.hand_over(programme, 1, card, batch.id, titik="Kantor Pos")
    assert caught.value.handover.id == first.id
    assert caught.value.handover.titik == "Balai Desa Pakis"
    # Even around the rules: the unique index itself refuses the row.
    with pytest.raises(models.IntegrityError), models.db.atomic():
        Handover.create(programme=programme.id, tahap=1, no_kk=card, kecamatan="35.10.16",
                        batch=batch.id, tanggal=models.today(), sumber="langsung")
    assert Handover.select().count() == 1


def test_returns_and_replacements_add_up(app):
    cards = make_families(3)
    programme = make_programme()
    batch = passed_batch(programme, 1)
    given = [rice.hand_over(programme, 1, card, batch.id) for card in cards]
    with pytest.raises(RiceError, match="paling banyak 15 kg"):
        rice.record_return(given[0], 16_000, "kuning")
    with pytest.raises(RiceError) as caught:
        rice.record_return(given[0], 1_000, "lainnya")  # "other" needs a word of explanation
    assert caught.value.field == "catatan"
    open_one = rice.record_return(given[0], 10_000, "kuning")
    with pytest.raises(RiceError, match=r"paling banyak 5 kg .*sudah dikembalikan 10 kg"):
        rice.record_return(given[0], 6_000, "apek")
    closed = rice.record_return(given[1], 5_000, "berkutu")
    bad = failed_batch(programme, 1, "BWI-APEK")
    with pytest.raises(RiceError, match="gagal uji tanak"):
        rice.record_replacement(closed, bad.id)
    rice.record_replacement(closed, batch.id, "diganti Bulog")
    with pytest.raises(RiceError, match="sudah diganti"):
        rice.record_replacement(closed, batch.id)
    late = rice.record_return(given[2], 2_500, "basah")
    models.db.execute_sql(f"UPDATE pengembalian_beras SET tanggal = {models.db.param} "
                          f"WHERE id = {models.db.param}",
                          ((models.today() - datetime.timedelta(days=8)).isoformat(), late.id))
    late = rice.Return.get_by_id(late.id)
    assert late.overdue(7) and not late.overdue(8) and not open_one.overdue(7)
    result = rice_progress.progress(programme, return_days=7).stages[1]
    assert (result.returns_open, result.returns_closed, result.overdue) == (2, 1, 1)
    assert result.returned_gram == 17_500 and result.replaced_gram == 5_000
    assert [r.id for r in rice.returns_of(programme, only_open=True)] == [late.id, open_one.id]


def test_progress_reconciles_per_stage_and_kecamatan(app):
    cards = make_families(40)
    programme = make_programme()
    batches = {t: passed_batch(programme, t) for t in programme.stage_numbers}
    for i, card in enumerate(cards):
        for tahap in programme.stage_numbers:
            if i < 40 - 10 * tahap:  # 30, 20 and 10 families served in stages 1, 2, 3
                rice.hand_over(programme, tahap, card, batches[tahap].id)
    p = rice_progress.progress(programme)
    assert p.families == 40 and [s.served for s in p.stages.values()] == [30, 20, 10]
    assert p.entitled_gram == 40 * 3 * STAGE_KG == 1_800_000
    assert p.handed_gram == 60 * STAGE_KG and p.remaining_gram == 60 * STAGE_KG
    assert p.entitled_gram == p.handed_gram + p.remaining_gram
    assert independent_remaining(programme) * STAGE_KG == p.remaining_gram
    assert len(p.kecamatan) > 1
    for tahap, stage in p.stages.items():
        assert sum(row[tahap].served for _k, _n, row in p.kecamatan) == stage.served
        assert sum(row[tahap].due for _k, _n, row in p.kecamatan) == stage.due
    assert p.daily == [(models.today(), {1: 30, 2: 20, 3: 10})]
