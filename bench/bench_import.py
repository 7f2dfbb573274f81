"""Benchmark: `flask import-data` of a 2,000,000-row recipient list, as a ratio to the sqlite3
command-line tool's `.import` of the same CSV followed by `CREATE UNIQUE INDEX` on the NIK.

The CSV is the demo register (demo.write_csv, seed 1), written once to --dir and reused. Each
round times, as whole processes, on fresh databases: (1) sqlite3 .import + unique index;
(2) import-data into a database fresh from `flask init-db` (migrations not timed); (3) the same
file again (a re-import that changes nothing). Medians of the rounds are reported.
Goal: (2) / (1) <= 1.5.

With --xlsx: the same rows (header included, every cell the CSV's text) as one sheet of an .xlsx
beside the CSV, written once and reused; each round times import-data of the CSV and of the
.xlsx, each into a database fresh from `flask init-db`. Goal: xlsx / csv <= 2. One sheet holds
at most 1,048,576 rows, header included.

    .venv/bin/python bench/bench_import.py [--rows N] [--rounds 3] [--dir /tmp/cekbansos-bench]
    .venv/bin/python bench/bench_import.py --reference   # also: sqlite3 .import into penduduk
    .venv/bin/python bench/bench_import.py --xlsx --rows 1048575   # .xlsx against CSV
"""
from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import common

SHEET_ROWS = 1_048_576  # the most rows one sheet of an .xlsx holds (Excel's and XlsxWriter's)


def register_xlsx(csv_path: Path) -> Path:
    """The rows of `csv_path`, its header row included, as text cells of one sheet of an .xlsx
    beside it (office.exports.write_xlsx: XlsxWriter in constant-memory mode; an empty field is
    an empty cell), written once and reused."""
    path = csv_path.with_suffix(".xlsx")
    if not path.exists():
        from office import exports

        print(f"writing {path} ...", flush=True)
        part = path.with_name(path.name + ".part")  # a run stopped midway leaves no .xlsx
        with open(csv_path, encoding="utf-8", newline="") as source:
            rows = csv.reader(source)
            exports.write_xlsx(part, next(rows), rows, "Sheet1")
        part.replace(path)
    return path


def fresh_copy(template: Path, db: Path) -> None:
    """`db` fresh from `flask init-db`: a copy of the template (migrations not timed)."""
    common.fresh_sqlite(db)
    shutil.copy(template, db)


def fresh_import(env: dict, template: Path, db: Path, path: Path) -> common.Finished:
    """`flask import-data path` into `db` fresh from `flask init-db` (env's database)."""
    fresh_copy(template, db)
    return common.flask(env, "import-data", str(path))


def print_round(round_no: int, results: dict[str, list[float]]) -> None:
    print(f"round {round_no}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in results.items()
                                             if v), flush=True)


def medians(args, results: dict[str, list[float]]) -> dict[str, float]:
    """The median of each kind timed (those with times), after a heading."""
    print(f"\n{args.rows:,} rows, median of {args.rounds} rounds:")
    return {k: statistics.median(v) for k, v in results.items() if v}


def xlsx_rounds(args, csv_path: Path, template: Path, app_db: Path, env: dict) -> None:
    xlsx_path = register_xlsx(csv_path)
    results: dict[str, list[float]] = {"csv": [], "xlsx": []}
    for round_no in range(1, args.rounds + 1):
        done = {kind: fresh_import(env, template, app_db, path)
                for kind, path in (("csv", csv_path), ("xlsx", xlsx_path))}
        if done["csv"].last_line != done["xlsx"].last_line:  # the same rows, the same result
            sys.exit(f"the imports differ:\n  csv:  {done['csv'].last_line}\n"
                     f"  xlsx: {done['xlsx'].last_line}")
        for kind, finished in done.items():
            results[kind].append(finished.seconds)
        print_round(round_no, results)
    median = medians(args, results)
    print(f"  flask import-data of the CSV    {median['csv']:7.2f} s")
    print(f"  flask import-data of the .xlsx  {median['xlsx']:7.2f} s   "
          f"ratio {median['xlsx'] / median['csv']:.2f}x  (goal <= 2x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/cekbansos-bench")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--reference", action="store_true",
                      help="also time sqlite3 .import straight into the real penduduk table")
    mode.add_argument("--xlsx", action="store_true",
                      help="time import-data of the same rows as .xlsx against the CSV")
    args = parser.parse_args()
    if args.xlsx and args.rows + 1 > SHEET_ROWS:
        parser.error(f"an .xlsx sheet holds at most {SHEET_ROWS - 1:,} rows below its header: "
                     f"--rows {args.rows:,} does not fit")
    work = Path(args.dir)
    csv_path = common.register_csv(work, args.rows)
    template, baseline_db, app_db = (work / "template.db", work / "baseline.db",
                                     work / "import.db")
    common.fresh_sqlite(template)
    env = common.bench_env(f"sqlite:///{template}")
    common.flask(env, "init-db")
    common.run(["sqlite3", str(template), "PRAGMA wal_checkpoint(TRUNCATE);"])
    env["DATABASE_URL"] = f"sqlite:///{app_db}"
    if args.xlsx:
        xlsx_rounds(args, csv_path, template, app_db, env)
        return
    results: dict[str, list[float]] = {"sqlite3": [], "import": [], "reimport": [],
                                       "reference": []}
    for round_no in range(1, args.rounds + 1):
        common.fresh_sqlite(baseline_db)
        results["sqlite3"].append(common.run(
            ["sqlite3", str(baseline_db), f".import --csv {csv_path} t",
             "CREATE UNIQUE INDEX t_nik ON t(nik);"]).seconds)
        results["import"].append(fresh_import(env, template, app_db, csv_path).seconds)
        results["reimport"].append(common.flask(env, "import-data", str(csv_path)).seconds)
        if args.reference:
            fresh_copy(template, app_db)
            body = work / "register-body.csv"
            if not body.exists():
                subprocess.run(f"cut -d, -f1-5 {csv_path} > {body}", shell=True, check=True)
            results["reference"].append(common.run(
                ["sqlite3", str(app_db), "PRAGMA journal_mode=wal;",
                 f".import --csv --skip 1 {body} penduduk"]).seconds)
        print_round(round_no, results)
    median = medians(args, results)
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
