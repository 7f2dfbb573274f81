"""Benchmark: the bulk check of desa operators (POST /cek-massal) with 50,000 NIKs.

Goal: 50,000 rows answered in <= 10 s server-side. The register is the demo register
(`flask seed-demo --people N`, built once into --dir and reused, as bench_check.py does; on
PostgreSQL a fresh database filled the same way and dropped afterwards). The list mixes NIKs of
the register in every status with unknown and invalid ones, as CSV and as .xlsx.

Each round signs a petugas in on the Flask test client (the app without a network: the time is
the server's) and POSTs the file as a browser does; printed per format: the time of the whole
POST (upload parsing, reading the file, one covering query per row, writing the answers), the
time of the check itself (office.bulk_check.run), and then the time to render the result page
and to build the .xlsx download.

    .venv/bin/python bench/bench_bulk_check.py                         # SQLite, 2,000,000 people
    .venv/bin/python bench/bench_bulk_check.py --people 200000 --pg-url postgresql://postgres@127.0.0.1/test
"""
from __future__ import annotations

import argparse
import csv
import io
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import common
from bench_check import ensure_register

ROWS = 50_000
GOAL_SECONDS = 10.0


def sample(rows: int, seed: int = 1) -> list[tuple[str, str]]:
    """(NIK, No. KK or "") rows: ~90 % from the register (enrolled, family covered, not
    covered), the rest unknown or invalid; every tenth row with its family card."""
    import models

    rng = random.Random(seed)
    people = models.db.execute_sql(
        "SELECT nik, no_kk FROM penduduk ORDER BY nik LIMIT 400000").fetchall()
    chosen = rng.sample(people, min(len(people), int(rows * 0.9)))
    result = [(nik, kk if i % 10 == 0 else "") for i, (nik, kk) in enumerate(chosen)]
    while len(result) < rows:
        nik = rng.choice(people)[0]
        result.append((nik[:12] + "9999", "") if rng.random() < 0.7
                      else (nik[:8] + "13" + nik[10:], ""))  # month 13: tidak-valid
    rng.shuffle(result)
    return result


def files(rows: list[tuple[str, str]], folder: Path) -> dict[str, Path]:
    from office import exports

    path = folder / "daftar.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("NIK", "NO KK"))
        writer.writerows(rows)
    xlsx = folder / "daftar.xlsx"
    exports.write_xlsx(xlsx, ("nik", "no_kk"), ([n, k] for n, k in rows), "Daftar")
    return {"csv": path, "xlsx": xlsx}


def one_round(client, path: Path) -> dict[str, float]:
    token = common.csrf_token(client.get("/cek-massal").get_data(as_text=True))
    body = {"csrf_token": token, "berkas": (io.BytesIO(path.read_bytes()), path.name)}
    started = time.perf_counter()
    response = client.post("/cek-massal", data=body, content_type="multipart/form-data")
    post = time.perf_counter() - started
    if response.status_code != 303:
        sys.exit(f"POST /cek-massal: {response.status_code}\n"
                 + response.get_data(as_text=True)[-800:])
    location = response.headers["Location"]
    started = time.perf_counter()
    page = client.get(location)
    shown = time.perf_counter() - started
    started = time.perf_counter()
    workbook = client.get(location + ".xlsx")
    xlsx = time.perf_counter() - started
    assert page.status_code == 200 and workbook.status_code == 200
    from office import bulk_check

    summary = bulk_check.summary_of(Path(client.application.config["IMPORT_DIR"]) / "cek-massal",
                                    location.rsplit("/", 1)[1], client.user_id)
    if summary.rows != ROWS:
        sys.exit(f"{summary.rows} rows answered, expected {ROWS}")
    return {"post": post, "check": summary.seconds, "page": shown, "xlsx": xlsx,
            "counts": summary.counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/cekbansos-bench")
    parser.add_argument("--pg-url", help="run on PostgreSQL (a fresh database on this server)")
    args = parser.parse_args()
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    with common.Databases(work, args.pg_url) as databases, \
            tempfile.TemporaryDirectory() as tmp:
        if args.pg_url:
            url = databases.fresh("bulk")
            env = common.bench_env(url)
            common.flask(env, "init-db")
            print(f"seeding {args.people:,} people on PostgreSQL ...", flush=True)
            common.flask(env, "seed-demo", "--people", str(args.people))
        else:
            db = work / f"check-{args.people}.db"
            ensure_register(db, args.people)
            url = f"sqlite:///{db}"
            common.flask(common.bench_env(url), "init-db")  # pending migrations (not timed)
        run(url, args, Path(tmp), databases.backend)


def run(url: str, args, folder: Path, backend: str) -> None:
    import models
    from app import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "RATELIMIT_STORAGE_URI": "memory://", "IMPORT_DIR": str(folder),
                      "WTF_CSRF_SSL_STRICT": False})
    with app.app_context(), models.db.connection_context():
        rows = sample(ROWS)
        paths = files(rows, folder)
        user = models.User.get_or_none(models.User.username == "bench-desa")
        if user is None:
            user = models.User(username="bench-desa", role="petugas")
            user.set_password("bench-sandi-123")
            user.save()
    common.close_pool()
    client = app.test_client()
    client.user_id = user.id
    token = common.csrf_token(client.get("/masuk").get_data(as_text=True))
    answer = client.post("/masuk", data={"username": "bench-desa",
                                         "password": "bench-sandi-123", "csrf_token": token})
    if answer.status_code != 303:
        sys.exit(f"sign-in failed: {answer.status_code}")
    print(f"{backend}, {args.people:,} people in the register, {ROWS:,} NIKs per list")
    for kind, path in paths.items():
        results = [one_round(client, path) for _ in range(args.rounds)]
        post = statistics.median(r["post"] for r in results)
        check = statistics.median(r["check"] for r in results)
        page = statistics.median(r["page"] for r in results)
        xlsx = statistics.median(r["xlsx"] for r in results)
        verdict = "ok" if post <= GOAL_SECONDS else "OVER GOAL"
        print(f"  {kind:<4} POST /cek-massal {post:6.2f} s (check {check:.2f} s, "
              f"{ROWS / check:,.0f} rows/s); result page {page:.2f} s; .xlsx download "
              f"{xlsx:.2f} s  [goal <= {GOAL_SECONDS:.0f} s: {verdict}]")
    print("  answers:", ", ".join(f"{k} {v:,}" for k, v in results[-1]["counts"].items()))


if __name__ == "__main__":
    main()
