"""gammu-smsd's PostgreSQL back-end (`native_pgsql`) in the app's own database.

gammu's documented tables (its pgsql.sql, shipped by Debian's gammu-smsd in
/usr/share/doc/gammu-smsd/examples/) live beside the app's: the daemon writes `inbox` and reads
`outbox`, moving each message it sent (or failed to send) to `sentitems`, and keeps the modem's
state in `phones`. Because they share one database, a message is claimed (FOR UPDATE SKIP
LOCKED: two workers never take the same row), answered and marked processed in the same
transaction that logs it; a worker killed half-way leaves the row unprocessed for the next one.
gammu's timestamps are the server's local time (LOCALTIMESTAMP); they are read back as UTC.
"""
from __future__ import annotations

import gzip
from pathlib import Path

from peewee import PostgresqlDatabase

from sms import gsm7
from sms.channel import Channel, ChannelError, Incoming, Outcome

SCHEMA = "/usr/share/doc/gammu-smsd/examples/pgsql.sql"
SCHEMA_VERSION = 17  # gammu 1.42 (Debian 12)
SENT = {"SendingOK", "SendingOKNoReport", "DeliveryOK", "DeliveryPending", "DeliveryUnknown"}
CREATOR = "cekbansos"


def utc(column: str) -> str:
    """gammu's LOCALTIMESTAMP column, read as UTC."""
    return f"(\"{column}\" AT TIME ZONE current_setting('TimeZone')) AT TIME ZONE 'UTC'"


class GammuSql(Channel):
    name = "gammu-pgsql"

    def __init__(self, database, *, schema_path: str | None = None, phone_id: str = ""):
        if not isinstance(getattr(database, "obj", database), PostgresqlDatabase):
            raise ChannelError("SMS_URL gammu-pgsql:// perlu DATABASE_URL PostgreSQL. Untuk "
                               "SQLite pakai gammu-files:///folder.")
        self.db = database
        self.schema_path = schema_path or SCHEMA
        self.phone_id = phone_id  # gammu's PhoneID, when several modems share the tables

    def _rows(self, sql: str, params=()) -> list[tuple]:
        return list(self.db.execute_sql(sql, params).fetchall())

    def claim(self, limit: int) -> list[Incoming]:
        rows = self._rows(
            f'SELECT "ID", "SenderNumber", "TextDecoded", "Coding", "Class", '
            f'{utc("ReceivingDateTime")} FROM inbox '
            'WHERE NOT "Processed" ORDER BY "ID" LIMIT %s FOR UPDATE SKIP LOCKED', (limit,))
        return [Incoming(
            # The time as well as the ID: tables created anew restart their IDs, and an old
            # ID in the log must not make a new message look answered already.
            key=f"inbox:{pk}:{received:%Y%m%d%H%M%S}", sender=sender,
            text=None if coding == "8bit" or klass == 127 else text,
            received_at=received, handle=pk)
            for pk, sender, text, coding, klass, received in rows]

    def mark_processed(self, messages: list[Incoming]) -> None:
        # gammu's copy of the text goes: the log keeps it with the digits masked.
        self.db.execute_sql('UPDATE inbox SET "Processed" = true, "Text" = \'\', '
                            '"TextDecoded" = \'\' WHERE "ID" = ANY(%s)',
                            ([m.handle for m in messages],))

    def hand_over(self, rows) -> list[str]:
        values, params = [], []
        for row in rows:
            values.append("(%s, %s, %s, %s, %s, %s)")
            params += [row.nomor, row.teks,
                       "Default_No_Compression" if gsm7.is_gsm7(row.teks)
                       else "Unicode_No_Compression",
                       f"{CREATOR}:{row.id}", self.phone_id or None,
                       1 if row.jenis == "balasan" else 0]  # people waiting for a reply first
        returned = self._rows(
            'INSERT INTO outbox ("DestinationNumber", "TextDecoded", "Coding", "CreatorID", '
            f'"SenderID", "Priority") VALUES {", ".join(values)} RETURNING "CreatorID", "ID"',
            params)
        ids = dict(returned)
        return [str(ids[f"{CREATOR}:{row.id}"]) for row in rows]

    def outcomes(self, refs: list[str]) -> dict[str, Outcome]:
        rows = self._rows(f'SELECT "ID", "Status", {utc("SendingDateTime")} '
                          'FROM sentitems WHERE "ID" = ANY(%s) ORDER BY "SequencePosition"',
                          ([int(ref) for ref in refs],))
        found: dict[str, Outcome] = {}
        for pk, status, at in rows:
            previous = found.get(str(pk))
            if previous is None or previous.sent:  # a failed part fails the message
                found[str(pk)] = Outcome(status in SENT, status, at)
        return found

    def _exists(self) -> bool:
        return self._rows("SELECT to_regclass('gammu') IS NOT NULL")[0][0]

    def health(self) -> dict:
        if not self._exists():
            return {"problem": "Tabel gammu-smsd belum ada: jalankan `flask --app app "
                               "sms-setup`."}
        waiting, oldest = self._rows(
            f'SELECT count(*), min({utc("InsertIntoDB")}) FROM outbox')[0]
        unread, oldest_unread = self._rows(
            f'SELECT count(*), min({utc("ReceivingDateTime")}) FROM inbox '
            'WHERE NOT "Processed"')[0]
        phone = self._rows(
            f'SELECT "NetName", "Signal", "Battery", "Sent", "Received", '
            f'{utc("UpdatedInDB")}, {utc("TimeOut")} '
            'FROM phones ORDER BY "UpdatedInDB" DESC LIMIT 1')
        modem = None
        if phone:
            net, signal, battery, sent, received, seen, timeout = phone[0]
            modem = {"network": net, "signal": signal, "battery": battery, "sent": sent,
                     "received": received, "seen": seen, "timeout": timeout}
        return {"outbox": waiting, "outbox_oldest": oldest, "inbox": unread,
                "inbox_oldest": oldest_unread, "modem": modem}

    def setup(self) -> list[str]:
        if self._exists():
            version = self._rows('SELECT max("Version") FROM gammu')[0][0]
            return [f"Tabel gammu-smsd sudah ada (versi skema {version})."]
        path = Path(self.schema_path)
        if not path.exists() and Path(f"{path}.gz").exists():
            path = Path(f"{path}.gz")
        if not path.exists():
            raise ChannelError(f"Skema SQL gammu tidak ditemukan di {self.schema_path}: "
                               "apt-get install gammu-smsd, atau atur SMS_GAMMU_SCHEMA.")
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        # plpgsql is built into every PostgreSQL since 9.0; the file's CREATE LANGUAGE fails.
        script = raw.decode("utf-8").replace("CREATE LANGUAGE plpgsql;", "")
        with self.db.atomic():
            self.db.cursor().execute(script)  # no parameters: several statements at once
        version = self._rows('SELECT max("Version") FROM gammu')[0][0]
        return [f"Tabel gammu-smsd dibuat dari {path} (versi skema {version})."]

    def smsdrc(self) -> str:
        real = getattr(self.db, "obj", self.db)
        params = real.connect_params
        host = params.get("host") or "localhost"
        if params.get("port"):
            host = f"{host}:{params['port']}"
        lines = ["[smsd]", "service = sql", "driver = native_pgsql", f"host = {host}",
                 f"user = {params.get('user') or 'postgres'}",
                 f"password = {'********' if params.get('password') else ''}",
                 f"database = {real.database}"]
        if self.phone_id:
            lines.append(f"phoneid = {self.phone_id}")
        return "\n".join(lines)
