"""What the SMS tests share: messages put where gammu-smsd puts them, the channels on a test
database, and the check that no outgoing text gives a NIK or a full name away."""
from __future__ import annotations

import itertools
import os
import re
import shutil

import pytest

import models
from sms import gsm7
from sms.gammu_files import GammuFiles
from sms.gammu_sql import SCHEMA, GammuSql
from sms.models import OutboundMessage

SENDER = "+6281234567890"
GAMMU_TABLES = ("inbox", "outbox", "outbox_multipart", "sentitems", "phones")
_serial = itertools.count(1)


def needs_gammu_smsd():
    if not (shutil.which("gammu-smsd") and shutil.which("gammu")):
        pytest.skip("gammu-smsd tests skipped: apt-get install gammu-smsd gammu")


def needs_gammu_schema():
    if not os.path.exists(SCHEMA):
        pytest.skip(f"gammu's PostgreSQL schema ({SCHEMA}) is missing: "
                    "apt-get install gammu-smsd")


def files_channel(tmp_path) -> GammuFiles:
    channel = GammuFiles(str(tmp_path / "spool"), settle=0)
    channel.setup()
    return channel


def sql_channel() -> GammuSql:
    """gammu's tables in the test's PostgreSQL database, empty."""
    needs_gammu_schema()
    channel = GammuSql(models.db)
    channel.setup()
    models.db.execute_sql(f"TRUNCATE {', '.join(GAMMU_TABLES)} RESTART IDENTITY")
    return channel


def channel_for(database_url: str, tmp_path):
    return sql_channel() if database_url.startswith("postgres") else files_channel(tmp_path)


def receive(channel, text: str, sender: str = SENDER) -> None:
    """A message as gammu-smsd stores it on arrival."""
    if isinstance(channel, GammuSql):
        models.db.execute_sql(
            'INSERT INTO inbox ("SenderNumber", "TextDecoded", "Text", "UDH", "RecipientID") '
            "VALUES (%s, %s, '', '', '')", (sender, text))
        return
    name = f"IN20260302_{next(_serial):06d}_00_{sender}_00.txt"
    # gammu writes the big-endian byte-order mark and UCS-2 (InboxFormat = unicode).
    (channel.inbox / name).write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))


def sent_texts() -> list[str]:
    return [row.teks for row in OutboundMessage.select().order_by(OutboundMessage.id)]


def assert_private(text: str, *people: tuple[str, str]) -> None:
    """No NIK (nor a 16-digit run at all) and no full name in an outgoing text; one message
    of GSM-7 at most."""
    assert gsm7.is_gsm7(text) and gsm7.length(text) <= gsm7.LIMIT, text
    assert not re.search(r"\d{16}", text.replace(" ", "").replace("-", "")), text
    for nik, name in people:
        assert not nik or nik not in text.replace(" ", "").replace("-", ""), text
        for word in name.split():
            if len(word) > 2:
                assert not re.search(rf"\b{re.escape(word)}\b", text.upper()), text
