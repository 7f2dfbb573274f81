"""The SMS worker on both channels: gammu's PostgreSQL tables (on PostgreSQL) and its folders
(on SQLite, and on PostgreSQL too). Each received message is answered exactly once, with two
workers at once and with a worker killed at any step; nothing keeps a NIK in clear."""
from __future__ import annotations

import multiprocessing
import os
import time

import pytest
from peewee import InterfaceError, OperationalError

import models
from sms import worker
from sms.gammu_files import GammuFiles
from sms.gammu_sql import GammuSql
from sms.models import InboundMessage, OutboundMessage
from tests.conftest import add_person
from tests.sms_support import SENDER, channel_for, files_channel, receive, sent_texts
from web import sms_desk


@pytest.fixture(params=["native", "files"])
def channel(request, app, database_url, tmp_path):
    """gammu's own store for the database (tables on PostgreSQL, folders on SQLite), and on
    PostgreSQL the folders as well."""
    from extensions import limiter

    limiter.reset()
    if request.param == "files" and not database_url.startswith("postgres"):
        pytest.skip("on SQLite the native channel is the folders already")
    channel = (files_channel(tmp_path) if request.param == "files"
               else channel_for(database_url, tmp_path))
    app.config["SMS_URL"] = ("gammu-pgsql://" if isinstance(channel, GammuSql)
                             else f"gammu-files://{channel.root}?settle=0")
    return channel


def gammu_outbox(channel) -> list[str]:
    """The texts waiting in gammu's outbox (what the daemon would send)."""
    if isinstance(channel, GammuSql):
        return [text for (text,) in models.db.execute_sql(
            'SELECT "TextDecoded" FROM outbox ORDER BY "ID"').fetchall()]
    return [(channel.outbox / name).read_bytes().decode("utf-16")
            for name in sorted(os.listdir(channel.outbox)) if name.startswith("OUT")]


def gammu_inbox(channel) -> list[str]:
    if isinstance(channel, GammuSql):
        return [text for (text,) in models.db.execute_sql(
            'SELECT "TextDecoded" FROM inbox WHERE NOT "Processed"').fetchall()]
    return sorted(os.listdir(channel.inbox))


def test_a_message_is_answered_through_gammus_outbox(app, channel):
    nik = add_person(nama="SITI WAHYUNI")
    models.enrol(nik, "RANTANG-KASIH", sumber="tes")
    receive(channel, f"cek {nik}")
    assert worker.one_round(channel, sms_desk.desk()) == worker.Round(1, 1, 0)
    logged = InboundMessage.get()
    assert (logged.teks, logged.perintah, logged.hasil) == ("cek [16 angka]", "cek", "dijawab")
    assert logged.pengirim_samaran == "+62812****7890"
    assert len(logged.pengirim) == 64 and "81234567890" not in logged.pengirim
    reply = OutboundMessage.get()
    assert (reply.status, reply.jenis, reply.nomor) == ("diserahkan", "balasan", SENDER)
    assert gammu_outbox(channel) == [reply.teks]
    assert reply.teks.startswith("Cek Bansos: S**I W*****I, Pakis: terdaftar di Rantang Kasih")
    assert gammu_inbox(channel) == []
    if isinstance(channel, GammuSql):  # gammu's own copy of the text is blanked as well
        assert models.db.execute_sql(
            'SELECT "TextDecoded", "Processed" FROM inbox').fetchall() == [("", True)]
    # Nothing more to do: a second round answers nothing again.
    assert worker.one_round(channel, sms_desk.desk()) == worker.Round(0, 0, 0)


def gammu_finishes(channel, sent: bool) -> None:
    """What gammu-smsd does with each waiting message: send it, or fail."""
    if isinstance(channel, GammuSql):
        models.db.execute_sql(
            'INSERT INTO sentitems ("ID", "DestinationNumber", "TextDecoded", "Text", "UDH", '
            '"SenderID", "CreatorID", "Status") SELECT "ID", "DestinationNumber", '
            '"TextDecoded", \'\', \'\', \'\', "CreatorID", %s FROM outbox',
            ("SendingOKNoReport" if sent else "SendingError",))
        models.db.execute_sql("DELETE FROM outbox")
        return
    for name in os.listdir(channel.outbox):
        os.rename(channel.outbox / name, (channel.sent if sent else channel.error) / name)


def test_follow_up_reads_what_gammu_did(app, channel):
    desk = sms_desk.desk()
    receive(channel, "BANTUAN")
    worker.receive(channel, desk), worker.hand_over(channel)
    assert worker.follow_up(channel) == 0  # still in gammu's outbox
    gammu_finishes(channel, sent=True)
    receive(channel, "BANTUAN", sender="+6285700000001")
    worker.receive(channel, desk), worker.hand_over(channel)
    gammu_finishes(channel, sent=False)
    assert worker.follow_up(channel) == 2
    statuses = [(m.status, m.status_gammu) for m in OutboundMessage.select().order_by(
        OutboundMessage.id)]
    expected = "SendingOKNoReport" if isinstance(channel, GammuSql) else "SendingOK"
    assert statuses == [("terkirim", expected), ("gagal", "SendingError")]
    assert all(m.selesai_at for m in OutboundMessage.select())


def test_case_updates_wait_for_the_worker_too(app, channel, make_user):
    from tests.test_sms_commands import submit

    case = submit()
    models.Reporter.update(telepon=SENDER, kabar_sms=True).execute()
    from cases import casework

    casework.decide_ineligible(case, "mampu", make_user())
    assert worker.hand_over(channel) == 1
    assert gammu_outbox(channel) == [OutboundMessage.get().teks]


def test_a_message_that_breaks_the_answer_is_logged_and_the_rest_answered(app, channel,
                                                                          monkeypatch):
    from sms import answers

    real = answers.answer

    def flaky(desk, sender, text):
        if "rusak" in (text or ""):
            raise ValueError("boom 3510161705800001")
        return real(desk, sender, text)

    monkeypatch.setattr(answers, "answer", flaky)
    receive(channel, "rusak 3510161705800001")
    receive(channel, "BANTUAN", sender="+6285700000001")
    assert worker.receive(channel, sms_desk.desk()) == 2
    outcomes = sorted(m.hasil for m in InboundMessage.select())
    assert outcomes == ["dijawab", "galat"]
    assert len(sent_texts()) == 1


# --- Exactly once: two workers, and a worker killed at each step ------------------------------

def _child(url, sms_url, step, ready, barrier=None, results=None):
    from app import create_app
    from sms import answers

    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret",
                      "RATELIMIT_STORAGE_URI": "memory://", "SMS_URL": sms_url})
    with app.app_context(), models.db.connection_context():
        channel, desk = sms_desk.channel(), sms_desk.desk()
        if step == "rounds":  # answer until there is nothing left
            barrier.wait(30)
            idle = 0
            while idle < 3:
                try:
                    done = worker.one_round(channel, desk, limit=5)
                except (OperationalError, InterfaceError):  # as worker.run: try again
                    continue
                idle = 0 if (done.received or done.handed) else idle + 1
            results.put("done")
            return

        def hang(*args):
            ready.set()
            time.sleep(120)  # killed here

        if step == "answering":
            class Hanging:
                def reply(self, client):
                    hang()

                coverage = reply
            desk = answers.Desk(Hanging(), desk.pseudonym)
            worker.receive(channel, desk)
        elif step == "after-commit":  # the answer is committed; the inbox not yet cleared
            channel.after_commit = lambda messages: os._exit(9)
            worker.receive(channel, desk)
        elif step == "handing-over":  # in gammu's outbox, not yet marked so in the log
            original = channel.hand_over

            def hand_over(rows):
                refs = original(rows)
                hang()
                return refs
            channel.hand_over = hand_over
            worker.hand_over(channel)


def _spawn(url, sms_url, step, **extra):
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    process = ctx.Process(target=_child, args=(url, sms_url, step, ready), kwargs=extra)
    process.start()
    return process, ready


def test_two_workers_answer_each_message_once(app, channel, database_url):
    count = 40
    for i in range(count):
        receive(channel, "BANTUAN", sender=f"+628570000{i:04d}")
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_child, args=(database_url, app.config["SMS_URL"], "rounds",
                                              None), kwargs={"barrier": barrier,
                                                             "results": results})
             for _ in range(2)]
    for process in procs:
        process.start()
    assert [results.get(timeout=120) for _ in procs] == ["done", "done"]
    for process in procs:
        process.join(30)
    assert InboundMessage.select().count() == count
    assert OutboundMessage.select().where(OutboundMessage.status == "diserahkan").count() == count
    numbers = [m.nomor for m in OutboundMessage.select()]
    assert len(set(numbers)) == count  # one reply for each sender
    assert len(gammu_outbox(channel)) == count
    assert gammu_inbox(channel) == []


@pytest.mark.parametrize("step", ["answering", "after-commit", "handing-over"])
def test_a_worker_killed_at_any_step_leaves_one_answer(app, channel, database_url, step):
    receive(channel, "BANTUAN")
    if step == "handing-over":
        worker.receive(channel, sms_desk.desk())  # answered; waiting to be handed over
    process, ready = _spawn(database_url, app.config["SMS_URL"], step)
    if step == "after-commit":
        process.join(60)
        assert process.exitcode == 9
    else:
        assert ready.wait(60), "the worker never got there"
        process.kill()
        process.join(30)
    models.db.close()  # a fresh connection: what the next worker would see
    for _ in range(50):  # PostgreSQL lets go of the dead worker's row locks within moments
        worker.one_round(sms_desk.channel(), sms_desk.desk())
        if OutboundMessage.select().where(OutboundMessage.status == "diserahkan").exists():
            break
        time.sleep(0.2)
    assert worker.one_round(sms_desk.channel(), sms_desk.desk()) == (0, 0, 0)
    assert InboundMessage.select().count() == 1
    reply, = OutboundMessage.select()
    assert reply.status == "diserahkan"
    assert gammu_outbox(channel) == [reply.teks]
    assert gammu_inbox(channel) == []
    if isinstance(channel, GammuFiles):
        assert [n for n in os.listdir(channel.outbox) if n.startswith(".")] == []
