"""Benchmark: residents' reports while a 2,000,000-row list is imported (SQLite), and the import
process's memory as files grow.

1. Memory: `flask import-data` of the demo register (demo.write_csv, seed 1) with --small rows,
   into a database fresh from `flask init-db`: its wall time and its peak resident memory
   (ru_maxrss of the child, from os.wait4).
2. Reports during an import: gunicorn (the project's gunicorn.conf.py, 2 sync workers) on a
   fresh database; while `flask import-data` of --rows runs on it, one client POSTs /lapor
   (a new NIK each time, as the form sends it) every --interval seconds. Every answer must be
   303; latency p50/p99/max is given per phase of the import (reading, checking, writing:
   from the import's own progress lines). The import's time and peak memory are those of item 1
   for --rows.

Goals: no failed report; memory at --rows within 100 MB of --small, and at most 300 MB.
`--code DIR` runs the import from another checkout of the project (e.g. the commit before, to
compare); it must keep the same command-line interface.

    .venv/bin/python bench/bench_import_live.py                 # 2,000,000 rows
    .venv/bin/python bench/bench_import_live.py --rows 500000 --small 100000
"""
from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import threading
import time
from pathlib import Path

import common

from nik import make_nik


class Import:
    """`flask import-data FILE` as a process of its own, its phases timed from its progress
    lines (stderr), its peak memory from the kernel's rusage of the child."""

    def __init__(self, env: dict, csv_path: Path, code: Path):
        self.phases: dict[str, float] = {}
        self.process = subprocess.Popen(
            [str(common.BIN / "python"), "-m", "flask", "--app", "app", "import-data",
             str(csv_path)], cwd=code, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.start = time.perf_counter()
        self.err = threading.Thread(target=self._phases, daemon=True)
        self.err.start()
        self.ended = threading.Event()
        threading.Thread(target=self._reap, daemon=True).start()

    def _reap(self) -> None:
        """Wait for the child here, once: the kernel's rusage of it comes with its end."""
        _pid, status, usage = os.wait4(self.process.pid, 0)
        self.seconds = time.perf_counter() - self.start
        self.process.returncode = os.waitstatus_to_exitcode(status)
        self.peak_mb = usage.ru_maxrss / 1024
        self.ended.set()

    def _phases(self) -> None:
        for line in self.process.stderr:
            phase = line.split(":", 1)[0]
            self.phases.setdefault(phase, time.perf_counter())

    def wait(self) -> tuple[float, float, str]:
        """(seconds, peak MB, last line of output)."""
        out = self.process.stdout.read()
        self.ended.wait()
        self.err.join(5)
        if self.process.returncode != 0:
            raise SystemExit(f"import-data failed ({self.process.returncode}):\n{out[-2000:]}")
        return self.seconds, self.peak_mb, out.strip().splitlines()[-1]

    def phase_at(self, moment: float) -> str:
        current = "membaca"
        for phase in ("memeriksa", "menulis"):
            if phase in self.phases and self.phases[phase] <= moment:
                current = phase
        return current


def fresh(databases: common.Databases, name: str) -> dict:
    env = common.bench_env(databases.fresh(name), "bench-import-live")
    common.flask(env, "init-db")
    return env


def reports_during(job: Import, port: int, interval: float) -> list[tuple[str, float, int]]:
    """POST /lapor every `interval` s until the import ends: (phase, seconds, status)."""
    browser = common.Browser(port, timeout=60)
    browser.get("/lapor")  # the connection open, as a resident's first page
    samples, i = [], 0
    while not job.ended.is_set():
        birth = datetime.date(1931, 1, 1) + datetime.timedelta(days=i // 9000)
        form = common.report_form(make_nik("351016", birth, True, 1000 + i % 9000))
        sent = time.perf_counter()
        try:
            status = browser.post("/lapor", form).status
        except OSError:
            status = 0
        samples.append((job.phase_at(sent), time.perf_counter() - sent, status))
        i += 1
        time.sleep(max(0.0, interval - (time.perf_counter() - sent)))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--port", type=int, default=8611, choices=range(8611, 8620))
    parser.add_argument("--dir", default="/tmp/cekbansos-bench-live")
    parser.add_argument("--code", default=str(common.ROOT), help="the checkout to import with")
    args = parser.parse_args()
    work, code = Path(args.dir), Path(args.code)
    work.mkdir(parents=True, exist_ok=True)
    with common.Databases(work) as databases:
        small = Import(fresh(databases, "small"), common.register_csv(work, args.small), code)
        seconds, peak, line = small.wait()
        print(f"{args.small:,} rows: {seconds:.1f} s, peak {peak:.0f} MB  ({line})", flush=True)
        csv_path = common.register_csv(work, args.rows)
        env = fresh(databases, "live")
        with common.Gunicorn(args.port, env, workers=2, log=work / "gunicorn.log"):
            big = Import(env, csv_path, code)
            samples = reports_during(big, args.port, args.interval)
            big_seconds, big_peak, line = big.wait()
    print(f"{args.rows:,} rows: {big_seconds:.1f} s, peak {big_peak:.0f} MB  ({line})")
    start = big.start
    print("  phases from start: " + ", ".join(
        f"{phase} {at - start:.1f} s" for phase, at in big.phases.items()))
    print(f"  memory: {big_peak - peak:+.0f} MB from {args.small:,} rows "
          "(goal: within 100 MB, at most 300 MB)")
    failed = [s for s in samples if s[2] != 303]
    print(f"\nPOST /lapor during the import: {len(samples)} sent, {len(failed)} failed "
          f"(statuses {sorted({s[2] for s in failed})})" if failed else
          f"\nPOST /lapor during the import: {len(samples)} sent, 0 failed")
    for phase in ("membaca", "memeriksa", "menulis", None):
        times = [s[1] * 1000 for s in samples if phase is None or s[0] == phase]
        if times:
            print(f"  {phase or 'all':10s} n={len(times):5d}  p50 "
                  f"{common.percentile(times, 50):7.1f} ms  p99 "
                  f"{common.percentile(times, 99):7.1f} ms  max {max(times):7.1f} ms")


if __name__ == "__main__":
    main()
