"""End to end with the real gammu-smsd and Gammu's fake phone, no modem: a resident's SMS
arrives on the phone, the daemon moves it into its inbox (folder or table), the app's worker
answers, the daemon "sends" the reply through the phone, and the resident reads it.

The fake phone (`model = dummy`, `connection = none`) keeps each message as a gammu SMS-backup
file under `<device>/sms/<folder>/`; a file in folder 1 with `PDU = Deliver` is a received SMS.
`gammu savesms` writes a `Submit` PDU (which the daemon ignores), so that one line is rewritten.
Needs `apt-get install gammu-smsd gammu`; the PostgreSQL set-up needs TEST_DATABASE_URL too.
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import models
from sms import gammu, worker
from sms.gammu_sql import GammuSql
from sms.models import InboundMessage, OutboundMessage
from tests.conftest import add_person
from tests.sms_support import SENDER, files_channel, needs_gammu_smsd, sql_channel
from web import sms_desk

FAKE_PHONE_TIMING = {"commtimeout": "1", "receivefrequency": "1", "loopsleep": "1",
                     "statusfrequency": "1", "debuglevel": "1"}


@pytest.fixture
def registered(app):
    from extensions import limiter

    needs_gammu_smsd()
    limiter.reset()
    nik = add_person(nama="SITI WAHYUNI")
    models.enrol(nik, "RANTANG-KASIH", sumber="tes")
    return nik


def write_config(tmp_path: Path, channel, **extra) -> Path:
    phone = tmp_path / "telepon"
    phone.mkdir()
    config = tmp_path / "gammu-smsdrc"
    config.write_text(gammu.smsdrc(
        channel, {"model": "dummy", "connection": "none", "device": f"{phone}/"},
        logfile=str(tmp_path / "smsd.log"), **FAKE_PHONE_TIMING, **extra))
    return config


def arrives_on_the_phone(config: Path, text: str, sender: str = SENDER) -> None:
    """An SMS received by the (fake) phone: saved by gammu, then made a Deliver PDU."""
    subprocess.run(["gammu", "-c", str(config), "savesms", "TEXT", "-folder", "1",
                    "-sender", sender, "-text", text], check=True, capture_output=True)
    device = Path(next(line.split("=", 1)[1].strip() for line in config.read_text().splitlines()
                       if line.startswith("device")))
    saved, = (device / "sms" / "1").iterdir()
    saved.write_text(saved.read_text().replace("PDU = Submit", "PDU = Deliver"))


def wait_for(condition, what: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"gammu-smsd took too long: {what}")


def answer_with_the_daemon(tmp_path, channel, config, nik):
    arrives_on_the_phone(config, f"Cek {nik}")
    daemon = subprocess.Popen(["gammu-smsd", "-c", str(config)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        desk = sms_desk.desk()
        wait_for(lambda: worker.receive(channel, desk), "the SMS into its inbox")
        assert worker.hand_over(channel) == 1
        wait_for(lambda: worker.follow_up(channel), "the reply sent through the phone")
    finally:
        daemon.terminate()
        daemon.wait(30)
    log = (tmp_path / "smsd.log").read_text()
    assert nik not in log  # the daemon's log (DebugLevel 1) shows no received text
    reply = OutboundMessage.get()
    assert reply.status == "terkirim" and reply.nomor == SENDER
    assert reply.teks.startswith("Cek Bansos: S**I W*****I, Pakis: terdaftar di Rantang Kasih")
    assert InboundMessage.get().teks == "Cek [16 angka]"
    return reply


def test_files_service_with_the_fake_phone(app, registered, tmp_path):
    channel = files_channel(tmp_path)
    channel.settle = 0.5  # the daemon writes an inbox file in place: read it once settled
    config = write_config(tmp_path, channel)
    reply = answer_with_the_daemon(tmp_path, channel, config, registered)
    sent = channel.sent / reply.ref
    assert sent.read_bytes().decode("utf-16") == reply.teks  # the resident's reply, as sent
    assert reply.status_gammu == "SendingOK"
    assert list(channel.inbox.iterdir()) == [] and list(channel.outbox.iterdir()) == []


def test_postgresql_tables_with_the_fake_phone(app, database_url, registered, tmp_path):
    if not database_url.startswith("postgres"):
        pytest.skip("gammu's PostgreSQL back-end: the [postgresql] run of this test "
                    "(TEST_DATABASE_URL)")
    channel = sql_channel()
    url = urlsplit(database_url)
    config = write_config(tmp_path, channel)
    # The test server's own address and password (sms-setup prints a placeholder for it).
    text = config.read_text().replace("password = ********", f"password = {url.password}")
    config.write_text(text)
    reply = answer_with_the_daemon(tmp_path, channel, config, registered)
    rows = models.db.execute_sql(
        'SELECT "DestinationNumber", "TextDecoded", "Status" FROM sentitems').fetchall()
    assert rows == [(SENDER, reply.teks, "SendingOKNoReport")]
    assert reply.status_gammu == "SendingOKNoReport"
    assert models.db.execute_sql('SELECT "Processed", "TextDecoded" FROM inbox').fetchall() \
        == [(True, "")]
    assert isinstance(channel, GammuSql)
