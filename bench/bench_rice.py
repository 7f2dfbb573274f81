"""Benchmark: rice aid at 10 x Banyuwangi (670,000 PKH families, 3 stages = 2,010,000 hand-overs).

1. Builds the register fast (one person per family, enrolled in PKH: DB-API executemany in one
   transaction), creates the programme (its family list comes from the register) and passes a
   cooking test for each stage.
2. `flask import-handovers` of a CSV with every family's three stages (2,010,000 rows), timed as
   a whole process; then the same file again (a re-import that changes nothing).
3. Progress per stage and kecamatan on the full table: rice_progress.progress() and the page.
4. The counter, server side, in-process (the Flask app without a network): for --counter extra
   families, a petugas types the number and presses the button; each hand-over is the full
   Post/Redirect/Get flow (POST lookup, GET, POST hand over, GET) through sessions, CSRF and the
   database. Also the rule alone (rice.hand_over) for comparison.

    .venv/bin/python bench/bench_rice.py [--families 670000] [--counter 2000] \
        [--dir /tmp/cekbansos-bench] [--database-url postgresql://...]

With --database-url the run uses that (empty or throw-away) PostgreSQL database instead of a
fresh SQLite file in --dir.
"""
from __future__ import annotations

import argparse
import datetime
import os
import statistics
import time
from pathlib import Path

import common

import cli
import models
from app import create_app
from imports import bulk
from nik import make_nik
from rice import distribution as rice
from rice import progress as rice_progress

os.chdir(common.ROOT)

STAGES, GRAM = 3, 15_000
STAFF_PASSWORD = "rahasia-bench"
BIRTH = datetime.date(1950, 1, 1)


def card(i: int, region: str) -> str:
    return f"{region}{i:010d}"


def build_register(families: int) -> None:
    """One KPM per family, enrolled in PKH with its family card, spread over all 217 desa."""
    villages = [k for (k,) in models.Region.select(models.Region.kode)
                .where(models.Region.tingkat != "kecamatan").order_by(models.Region.kode)
                .tuples()]
    db, p = models.db, models.db.param
    now, since = models.utcnow().isoformat(sep=" "), "2020-01-01"
    people, enrolments = [], []
    with bulk._bulk_session(), db.atomic():
        cursor = db.cursor()
        for i in range(families):
            desa = villages[i % len(villages)]
            region = desa[:8].replace(".", "")
            nik = make_nik(region, BIRTH + datetime.timedelta(days=i // 9999), False,
                           i % 9999 + 1)
            kk = card(i, region)
            people.append((nik, kk, f"KPM {i}", f"Jl. Padi {i % 500} RT 001 RW 001", desa))
            enrolments.append((nik, "PKH", kk, since, "bench", now))
            if len(people) == 50_000 or i == families - 1:
                cursor.executemany("INSERT INTO penduduk (nik, no_kk, nama, alamat, desa_kode) "
                                   f"VALUES ({p}, {p}, {p}, {p}, {p})", people)
                cursor.executemany("INSERT INTO kepesertaan (nik, skema_kode, family_kk, sejak, "
                                   f"sumber, created_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
                                   enrolments)
                people, enrolments = [], []


def write_csv(path: Path, programme, tested: datetime.date, batches: dict,
              leave_out: set) -> int:
    rows = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write("no_kk,tahap,tanggal,batch,titik\n")
        cards = models.db.execute_sql(
            f"SELECT no_kk FROM penerima_beras WHERE program_id = {models.db.param} "
            "ORDER BY id", (programme.id,)).fetchall()
        for tahap in range(1, STAGES + 1):
            for n, (kk,) in enumerate(cards):
                if kk in leave_out:
                    continue
                day = tested + datetime.timedelta(days=(tahap - 1) * 30 + n % 12)
                out.write(f"{kk},{tahap},{day:%d-%m-%Y},{batches[tahap]},Gudang Bulog\n")
                rows += 1
    return rows


def add_staff(username: str, role: str) -> None:
    user = models.User(username=username, role=role)
    user.set_password(STAFF_PASSWORD)
    user.save()


def signed_in(app, username: str) -> tuple[object, str]:
    """A test client signed in as `username`, and its CSRF token. Used outside any app
    context: each request then has an app context (and `g`) of its own, as under a server."""
    client = app.test_client()
    return client, common.InProcessBrowser(client).sign_in(username, STAFF_PASSWORD)


def counter_bench(app, programme_id: int, batch_id: int, cards: list[str]) -> float:
    """Hand-overs per second through the counter's full Post/Redirect/Get flow."""
    client, token = signed_in(app, "petugas-bench")
    base = f"/beras/{programme_id}/loket"
    client.post(f"{base}/atur", data={"csrf_token": token, "titik": "Balai Desa",
                                      "batch": str(batch_id)})
    start = time.perf_counter()
    for kk in cards:
        r = client.post(f"{base}/cari", data={"csrf_token": token, "nomor": kk})
        assert r.status_code == 303, r.status_code
        assert b"Serahkan Tahap 1" in client.get(base).data
        r = client.post(f"{base}/serahkan", data={"csrf_token": token, "tahap": "1"})
        assert r.status_code == 303
        assert b"Tercatat: Tahap 1" in client.get(base).data
    return len(cards) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=670_000)
    parser.add_argument("--counter", type=int, default=2_000)
    parser.add_argument("--dir", default="/tmp/cekbansos-bench")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    url = args.database_url
    if not url:
        path = work / f"rice-{args.families}.db"
        common.fresh_sqlite(path)
        url = f"sqlite:///{path}"
    config = {"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
              "RATELIMIT_STORAGE_URI": "memory://", "WTF_CSRF_SSL_STRICT": False}
    app = create_app(config)
    env = common.bench_env(url)
    total = args.families + args.counter
    print(f"database: {url.split('@')[-1]}; {total:,} families", flush=True)
    with app.app_context(), models.db.connection_context():
        cli.migrate()
        cli.load_reference_data()
        start = time.perf_counter()
        build_register(total)
        print(f"register (executemany): {time.perf_counter() - start:.1f} s", flush=True)
        start = time.perf_counter()
        plan = [datetime.date(2020, 5, 4), datetime.date(2020, 6, 3), datetime.date(2020, 7, 3)]
        programme = rice.create_programme("Bantuan Sosial Beras KPM PKH 2020", "PKH", STAGES,
                                          GRAM, "Gudang Bulog Banyuwangi", plan)
        families = programme.family_count()
        print(f"programme with its family list ({families:,}): "
              f"{time.perf_counter() - start:.1f} s", flush=True)
        tested = models.today() - datetime.timedelta(days=90)
        batches = {t: rice.record_test(programme, t, f"BWI-T{t}", "Gudang Bulog", tested,
                                       "Dinas Sosial", "Dinas Sosial, Bulog", "layak").batch
                   for t in range(1, STAGES + 1)}
        # The last --counter families come to the counter; the CSV has everyone else.
        counter_cards = [kk for (kk,) in models.db.execute_sql(
            f"SELECT no_kk FROM penerima_beras WHERE program_id = {models.db.param} "
            f"ORDER BY id DESC LIMIT {args.counter}", (programme.id,))]
        csv_path = work / f"serah-{args.families}.csv"
        rows = write_csv(csv_path, programme, tested, {t: b.kode for t, b in batches.items()},
                         set(counter_cards))
        print(f"CSV: {rows:,} rows, {csv_path.stat().st_size / 1e6:.0f} MB", flush=True)
    common.close_pool()

    print(f"load average before the import: {os.getloadavg()[0]:.1f}", flush=True)
    done = common.flask(env, "import-handovers", str(programme.id), str(csv_path))
    print(f"import-handovers: {done.seconds:.1f} s wall ({done.cpu:.1f} s CPU) = "
          f"{rows / done.seconds:,.0f} rows/s  [{done.last_line}]", flush=True)
    done = common.flask(env, "import-handovers", str(programme.id), str(csv_path))
    print(f"re-import (no change): {done.seconds:.1f} s wall ({done.cpu:.1f} s CPU)  "
          f"[{done.last_line}]", flush=True)

    with app.app_context(), models.db.connection_context():
        programme = rice.Programme.get_by_id(programme.id)
        runs, cpu = [], []
        for _ in range(5):
            start, started = time.perf_counter(), time.process_time()
            p = rice_progress.progress(programme)
            runs.append(time.perf_counter() - start)
            cpu.append(time.process_time() - started)
        assert p.entitled_gram == p.handed_gram + p.remaining_gram
        print(f"progress(): {statistics.median(runs) * 1000:.0f} ms wall, "
              f"{statistics.median(cpu) * 1000:.0f} ms CPU (medians of 5); "
              f"{p.families:,} families x {STAGES} x 15 kg = {rice.format_kg(p.entitled_gram)}"
              f" = {rice.format_kg(p.handed_gram)} handed + "
              f"{rice.format_kg(p.remaining_gram)} due", flush=True)
        add_staff("petugas-bench", "petugas")
        add_staff("verifikator-bench", "verifikator")
    common.close_pool()

    half = len(counter_cards) // 2
    started = time.process_time()
    rate = counter_bench(app, programme.id, batches[1].id, counter_cards[:half])
    per_cpu = (time.process_time() - started) / half
    print(f"counter, full PRG flow in-process: {rate:,.0f} hand-overs/s wall, "
          f"{1 / per_cpu:,.0f}/s per CPU second ({half:,} families, stage 1)", flush=True)

    with app.app_context(), models.db.connection_context():
        start, started = time.perf_counter(), time.process_time()
        for kk in counter_cards[half:]:
            rice.hand_over(programme, 1, kk, batches[1].id, titik="Balai Desa")
        elapsed, cpu_used = time.perf_counter() - start, time.process_time() - started
    common.close_pool()
    done = len(counter_cards) - half
    print(f"rice.hand_over() alone: {done / elapsed:,.0f} hand-overs/s wall, "
          f"{done / cpu_used:,.0f}/s per CPU second", flush=True)

    client, _ = signed_in(app, "verifikator-bench")
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        page = client.get(f"/beras/{programme.id}/kemajuan")
        runs.append(time.perf_counter() - start)
        assert page.status_code == 200, page.status_code
    print(f"progress page: {statistics.median(runs) * 1000:.0f} ms (median of 3), "
          f"{len(page.data):,} bytes", flush=True)
    common.close_pool()

if __name__ == "__main__":
    main()
