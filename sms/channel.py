"""The channel to the GSM modem, behind one interface, chosen by SMS_URL.

- `gammu-pgsql://`: gammu-smsd's `native_pgsql` back-end, its documented tables (inbox, outbox,
  sentitems, phones) in the app's own PostgreSQL database. A message is claimed, answered and
  marked processed in one transaction with the app's log (SELECT … FOR UPDATE SKIP LOCKED).
- `gammu-files:///var/spool/cekbansos-sms`: gammu-smsd's `files` service, for the embedded
  SQLite set-up: inbox/, outbox/, sent/ and error/ folders of UTF-16 text files. The app's log
  is the ledger: a file is answered once under its name; replies are written under a name of
  their own (the log row's id), so a worker killed half-way never sends one twice.

Both do the same five things for the worker (sms/worker.py): claim received messages, mark them
processed, hand messages over to send, read back what gammu did with them, and report health.
"""
from __future__ import annotations

import datetime
from typing import NamedTuple


class ChannelError(Exception):
    """SMS_URL cannot be used as it stands; the message says why, in Indonesian."""


class Incoming(NamedTuple):
    key: str  # unique in gammu's store; the log keeps it so a message is answered once
    sender: str
    text: str | None  # None: not a text message (8-bit data, a USSD dialogue)
    received_at: datetime.datetime | None  # UTC
    handle: object  # the channel's own reference (a row ID, the files of its parts)


class Outcome(NamedTuple):
    sent: bool
    gammu_status: str  # sentitems' Status (SendingOKNoReport, SendingError, …)
    at: datetime.datetime | None  # UTC


class Channel:
    """What the worker and the admin page need from a gammu-smsd back-end."""

    name = ""

    def claim(self, limit: int) -> list[Incoming]:
        """Received messages not yet processed, oldest first, held for this transaction."""
        raise NotImplementedError

    def mark_processed(self, messages: list[Incoming]) -> None:
        """Inside the transaction that logged them: gammu's copy loses its text too."""

    def after_commit(self, messages: list[Incoming]) -> None:
        """After that transaction: what cannot be undone (removing inbox files)."""

    def hand_over(self, rows) -> list[str]:
        """Give these sms_keluar rows to gammu-smsd; their references in its store."""
        raise NotImplementedError

    def outcomes(self, refs: list[str]) -> dict[str, Outcome]:
        """What gammu did with the messages handed over: those it has finished with."""
        raise NotImplementedError

    def health(self) -> dict:
        """gammu's side: messages waiting in its outbox and inbox, the modem's last report."""
        raise NotImplementedError

    def setup(self) -> list[str]:
        """Create what gammu-smsd needs (tables, folders); what was done, line by line."""
        raise NotImplementedError

    def smsdrc(self) -> str:
        """The [smsd] section of gammu-smsdrc for this channel."""
        raise NotImplementedError

