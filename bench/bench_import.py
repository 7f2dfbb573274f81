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
import shutil
import statistics
import subprocess
from pathlib import Path

import common


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/cekbansos-bench")
    parser.add_argument("--reference", action="store_true",
                        help="also time sqlite3 .import straight into the real penduduk table")
    args = parser.parse_args()
    work = Path(args.dir)
    csv_path = common.register_csv(work, args.rows)
    template, baseline_db, app_db = (work / "template.db", work / "baseline.db",
                                     work / "import.db")
    common.fresh_sqlite(template)
    env = common.bench_env(f"sqlite:///{template}")
    common.flask(env, "init-db")
    common.run(["sqlite3", str(template), "PRAGMA wal_checkpoint(TRUNCATE);"])
    env["DATABASE_URL"] = f"sqlite:///{app_db}"
    results: dict[str, list[float]] = {"sqlite3": [], "import": [], "reimport": [],
                                       "reference": []}
    for round_no in range(1, args.rounds + 1):
        common.fresh_sqlite(baseline_db)
        results["sqlite3"].append(common.run(
            ["sqlite3", str(baseline_db), f".import --csv {csv_path} t",
             "CREATE UNIQUE INDEX t_nik ON t(nik);"]).seconds)
        common.fresh_sqlite(app_db)
        shutil.copy(template, app_db)
        results["import"].append(common.flask(env, "import-data", str(csv_path)).seconds)
        results["reimport"].append(common.flask(env, "import-data", str(csv_path)).seconds)
        if args.reference:
            common.fresh_sqlite(app_db)
            shutil.copy(template, app_db)
            body = work / "register-body.csv"
            if not body.exists():
                subprocess.run(f"cut -d, -f1-5 {csv_path} > {body}", shell=True, check=True)
            results["reference"].append(common.run(
                ["sqlite3", str(app_db), "PRAGMA journal_mode=wal;",
                 f".import --csv --skip 1 {body} penduduk"]).seconds)
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
