"""The SMS channel for the office: the admins' health page, and the two commands
(`flask sms-setup`, `flask sms-worker`). Off unless SMS_URL is set."""
from __future__ import annotations

import pytest

from sms import worker
from sms.models import InboundMessage, OutboundMessage
from tests.conftest import login
from tests.sms_support import channel_for, receive
from web import sms_desk


@pytest.fixture
def admin(client, make_user):
    make_user("admin1", role="admin")
    login(client, "admin1")
    return client


@pytest.fixture
def channel(app, database_url, tmp_path):
    from extensions import limiter

    limiter.reset()
    channel = channel_for(database_url, tmp_path)
    app.config["SMS_URL"] = ("gammu-pgsql://" if database_url.startswith("postgres")
                             else f"gammu-files://{tmp_path}/spool?settle=0")
    return channel


def test_the_page_says_how_to_switch_the_channel_on(admin):
    html = admin.get("/admin/sms").get_data(as_text=True)
    assert "Layanan SMS belum diaktifkan" in html and "SMS_URL" in html


def test_health_shows_the_queue_failures_and_unanswered_without_a_nik(app, admin, channel):
    receive(channel, "cek 3510 1617 0580 001")  # a digit short
    receive(channel, "CEK 3510161705800001", sender="TELKOMSEL")
    receive(channel, "BANTUAN", sender="+6285700000001")
    worker.receive(channel, sms_desk.desk())
    html = admin.get("/admin/sms").get_data(as_text=True)
    assert "3 menunggu diserahkan ke modem" not in html  # two replies, one sender not answered
    assert "2 menunggu diserahkan ke modem" in html
    table = html[html.index('id="tidak-terjawab"'):]
    assert "cek [15 angka]" in table and "NIK tidak valid" in table
    assert "CEK [16 angka]" in table and "bukan nomor HP Indonesia" in table
    assert "3510" not in html and "+62812****7890" in html
    worker.hand_over(channel)
    OutboundMessage.update(status="gagal", status_gammu="SendingError",
                           selesai_at=OutboundMessage.diserahkan_at).execute()
    html = admin.get("/admin/sms").get_data(as_text=True)
    failed = html[html.index('id="gagal-kirim"'):]
    assert "Gagal dikirim (SendingError)" in failed and "+62857****0001" in failed
    assert "Kotak keluar gammu-smsd" in html


def test_only_admins_see_it(client, make_user):
    make_user("verif")
    login(client, "verif")
    assert client.get("/admin/sms").status_code == 403


def test_the_commands_refuse_without_sms_url(runner):
    for command in ("sms-setup", "sms-worker"):
        result = runner.invoke(args=[command])
        assert result.exit_code != 0
        assert "SMS belum diaktifkan: atur SMS_URL" in result.output


def test_setup_prints_a_gammu_smsdrc_and_the_worker_runs_a_round(app, runner, channel):
    result = runner.invoke(args=["sms-setup", "--modem", "/dev/ttyACM0"])
    assert result.exit_code == 0, result.output
    assert "[gammu]\ndevice = /dev/ttyACM0\nconnection = at" in result.output
    assert ("driver = native_pgsql" if app.config["SMS_URL"].startswith("gammu-pgsql")
            else "inboxformat = unicode") in result.output
    receive(channel, "BANTUAN")
    result = runner.invoke(args=["sms-worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "SMS: 1 diterima, 1 diserahkan ke modem, 0 selesai." in result.output
    assert InboundMessage.select().count() == 1


def test_a_url_that_names_nothing_known_is_refused(app, runner):
    app.config["SMS_URL"] = "gammu-mysql://localhost/smsd"
    result = runner.invoke(args=["sms-worker", "--once"])
    assert "SMS_URL tidak dikenal" in result.output
    app.config["SMS_URL"] = "gammu-pgsql://"
    if not app.config["DATABASE_URL"].startswith("postgres"):
        result = runner.invoke(args=["sms-setup"])
        assert "perlu DATABASE_URL PostgreSQL" in result.output


def test_the_worker_stops_when_asked(app, channel):
    rounds = []
    worker.run(channel, sms_desk.desk(), idle=0, stop=lambda: len(rounds) > 2 or rounds.append(1))
    assert len(rounds) == 3
