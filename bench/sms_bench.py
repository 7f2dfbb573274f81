"""Benchmark: SMS answered per second by one worker (`flask sms-worker`). Goal: >= 100/s, far
above what one GSM modem carries (some 10 to 20 messages a minute).

A throw-away database made by `flask init-db` and `flask seed-demo` (20,000 people, with demo
reports), then N received messages put where gammu-smsd puts them: UTF-16 files in the inbox
folder (SQLite, `gammu-files://`), or rows in gammu's `inbox` table (PostgreSQL,
`gammu-pgsql://`, with `--postgres URL`). A mix a modem would see: checks of registered,
family-covered and unregistered NIKs, mistyped NIKs, LACAK of real and unknown codes, help and
chatter, each from its own number. One worker in this process then runs its rounds (answer and
log, hand the replies over to gammu's outbox) until every message is answered and every reply
handed over; the time of that is the result. Rate limits are on, on their production storage
(a SQLite file), as every answer counts against its number's allowances.

    .venv/bin/python bench/sms_bench.py [--messages 3000] [--batch 50]
    .venv/bin/python bench/sms_bench.py --postgres postgresql://postgres@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import common

GOAL = 100.0


def messages(count: int, seed: int = 1) -> list[tuple[str, str]]:
    """(sender, text) pairs in the mix described above, from the seeded database."""
    import models

    rng = random.Random(seed)
    niks = [nik for (nik,) in models.Person.select(models.Person.nik).limit(5000).tuples()]
    enrolled = [nik for (nik,) in models.Enrolment.select(models.Enrolment.person)
                .limit(2000).tuples()]
    codes = [kode for (kode,) in models.Report.select(models.Report.kode).limit(500).tuples()]
    out = []
    for i in range(count):
        sender = f"+62857{i:08d}"
        pick = rng.random()
        if pick < 0.35 and enrolled:
            text = f"CEK {rng.choice(enrolled)}"
        elif pick < 0.65:
            text = f"cek {rng.choice(niks)}"
        elif pick < 0.72:
            text = f"cek {rng.choice(niks)[:15]}"  # a digit short
        elif pick < 0.85 and codes:
            text = f"lacak {rng.choice(codes)}"
        elif pick < 0.90:
            text = "LACAK ZZZZ-ZZZZ"
        elif pick < 0.95:
            text = "BANTUAN"
        else:
            text = "halo pak, ini nomor apa ya?"
        out.append((sender, text))
    return out


def fill_inbox(channel, batch: list[tuple[str, str]]) -> None:
    import models
    from sms.gammu_sql import GammuSql

    if isinstance(channel, GammuSql):
        with models.db.atomic():
            for sender, text in batch:
                models.db.execute_sql(
                    'INSERT INTO inbox ("SenderNumber", "TextDecoded", "Text", "UDH", '
                    "\"RecipientID\") VALUES (%s, %s, '', '', '')", (sender, text))
        return
    for i, (sender, text) in enumerate(batch):
        name = f"IN20260302_{i:06d}_00_{sender}_00.txt"
        (channel.inbox / name).write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))


def measure(url: str, sms_url: str, work: Path, count: int, batch: int) -> tuple[float, dict]:
    from peewee import fn

    import models
    from app import create_app
    from sms import worker
    from sms.models import InboundMessage, OutboundMessage
    from web import sms_desk

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "SMS_URL": sms_url,
                      "RATELIMIT_STORAGE_URI": f"sqlite:///{work / 'ratelimit.db'}"})
    with app.app_context(), models.db.connection_context():
        channel, desk = sms_desk.channel(), sms_desk.desk()
        channel.setup()
        fill_inbox(channel, messages(count))
        start, cpu = time.perf_counter(), time.process_time()
        while True:
            done = worker.one_round(channel, desk, batch)
            if not (done.received or done.handed):
                break
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        outcomes = dict(InboundMessage.select(InboundMessage.hasil, fn.COUNT(InboundMessage.id))
                        .group_by(InboundMessage.hasil).tuples())
        handed = OutboundMessage.select().where(OutboundMessage.status == "diserahkan").count()
    if sum(outcomes.values()) != count or handed < count:
        raise SystemExit(f"not all answered: {outcomes}, {handed} handed over")
    return seconds, {"cpu": cpu, "outcomes": outcomes, "handed": handed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL with gammu's tables")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cekbansos-sms-") as tmp, \
            common.Databases(Path(tmp), args.postgres) as databases:
        work = Path(tmp)
        url = databases.fresh("sms")
        env = common.bench_env(url)
        common.flask(env, "init-db")
        common.flask(env, "seed-demo", "--people", str(args.people))
        sms_url = ("gammu-pgsql://" if args.postgres
                   else f"gammu-files://{work / 'spool'}?settle=0")
        seconds, info = measure(url, sms_url, work, args.messages, args.batch)
        common.close_pool()
    rate = args.messages / seconds
    print(f"{databases.backend}, {sms_url.split(':')[0]}: {args.messages} SMS answered and "
          f"handed over in {seconds:.2f} s by one worker ({info['cpu']:.2f} s CPU)")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(info["outcomes"].items())))
    print(f"SMS answered per second by one worker: {rate:.0f}/s (goal >= {GOAL:.0f}/s) "
          + ("OK" if rate >= GOAL else "BELOW GOAL"))


if __name__ == "__main__":
    main()
