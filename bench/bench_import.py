"""Benchmark: `flask import-data` of a 2,000,000-row recipient list, as a ratio to the sqlite3
command-line tool's `.import` of the same CSV followed by `CREATE UNIQUE INDEX` on the NIK.

The CSV is the demo register (demo.write_csv, seed 1), written once to --dir and reused. Each
round times, as whole processes, on fresh databases: (1) sqlite3 .import + unique index;
(2) import-data into a database fresh from `flask init-db` (migrations not timed); (3) the same
file again (a re-import that changes nothing). Medians of the rounds are reported.
Goal: (2) / (1) <= 1.5.

    .venv/bin/python bench/bench_import.py [--rows N] [--rounds 3] [--dir /tmp/cekbansos-bench]
    .venv/bin/python bench/bench_import.py --reference   # also: sqlite3 .import into penduduk
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(command: list[str], **kwargs) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def fresh(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/cekbansos-bench")
    parser.add_argument("--reference", action="store_true",
                        help="also time sqlite3 .import straight into the real penduduk table")
    args = parser.parse_args()
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / f"register-{args.rows}.csv"
    if not csv_path.exists():
        import demo

        print(f"writing {csv_path} ...", flush=True)
        tally = demo.write_csv(csv_path, args.rows, seed=1)
        print(f"  {tally.people} people in {tally.families} families", flush=True)
    flask = [str(Path(sys.executable).parent / "flask"), "--app", "app"]
    template, baseline_db, app_db = (work / "template.db", work / "baseline.db",
                                     work / "import.db")
    fresh(template)
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{template}", SECRET_KEY="bench")
    timed(flask + ["init-db"], cwd=ROOT, env=env)
    timed(["sqlite3", str(template), "PRAGMA wal_checkpoint(TRUNCATE);"])
    env["DATABASE_URL"] = f"sqlite:///{app_db}"
    results: dict[str, list[float]] = {"sqlite3": [], "import": [], "reimport": [],
                                       "reference": []}
    for round_no in range(1, args.rounds + 1):
        fresh(baseline_db)
        results["sqlite3"].append(timed(
            ["sqlite3", str(baseline_db), f".import --csv {csv_path} t",
             "CREATE UNIQUE INDEX t_nik ON t(nik);"]))
        fresh(app_db)
        shutil.copy(template, app_db)
        results["import"].append(timed(flask + ["import-data", str(csv_path)], cwd=ROOT,
                                       env=env))
        results["reimport"].append(timed(flask + ["import-data", str(csv_path)], cwd=ROOT,
                                         env=env))
        if args.reference:
            fresh(app_db)
            shutil.copy(template, app_db)
            body = work / "register-body.csv"
            if not body.exists():
                subprocess.run(f"cut -d, -f1-5 {csv_path} > {body}", shell=True, check=True)
            results["reference"].append(timed(
                ["sqlite3", str(app_db), "PRAGMA journal_mode=wal;",
                 f".import --csv --skip 1 {body} penduduk"]))
        print(f"round {round_no}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in
                                                 results.items() if v), flush=True)
    median = {k: statistics.median(v) for k, v in results.items() if v}
    print(f"\n{args.rows:,} rows, median of {args.rounds} rounds:")
    print(f"  sqlite3 .import + CREATE UNIQUE INDEX   {median['sqlite3']:7.2f} s")
    print(f"  flask import-data (fresh register)      {median['import']:7.2f} s   "
          f"ratio {median['import'] / median['sqlite3']:.2f}x  (goal <= 1.5x)")
    print(f"  flask import-data again (no changes)    {median['reimport']:7.2f} s   "
          f"ratio {median['reimport'] / median['sqlite3']:.2f}x")
    if "reference" in median:
        print(f"  sqlite3 .import into penduduk (no checks){median['reference']:7.2f} s   "
              f"ratio {median['reference'] / median['sqlite3']:.2f}x")


if __name__ == "__main__":
    main()
