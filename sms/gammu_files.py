"""gammu-smsd's `files` service: inbox/, outbox/, sent/ and error/ folders under one root.

The embedded (SQLite) set-up's channel. gammu-smsd writes each received part to
`inbox/IN<date>_<time>_<serial>_<sender>_<part>.txt` (InboxFormat = unicode: UTF-16), sends
every `outbox/OUT*.txt` in name order and renames it into sent/ or error/.

Exactly once without a shared transaction: the app's log is the ledger. A received message is
answered once under its name (a unique key in sms_masuk, written in the same transaction as the
reply); its files are deleted only after that commit, and a file whose name is already logged
is just deleted. A reply is written under a name of its own (its sms_keluar id), to a hidden
temporary file first and then renamed into outbox/, and never again once that name is in
outbox/, sent/ or error/ (checked in that order, the order gammu moves it in).
"""
from __future__ import annotations

import datetime
import os
import time
from pathlib import Path

from sms.channel import Channel, ChannelError, Incoming, Outcome

FOLDERS = ("inbox", "outbox", "sent", "error")


def _utc(timestamp: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).replace(tzinfo=None)


def read_text(data: bytes) -> str:
    """A message file: UTF-16 with its byte-order mark (unicode), else the system's UTF-8."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    return data.decode("utf-8", errors="replace")


class GammuFiles(Channel):
    name = "gammu-files"

    def __init__(self, root: str, *, settle: float = 1.0):
        self.root = Path(root)
        self.inbox, self.outbox, self.sent, self.error = (self.root / f for f in FOLDERS)
        # gammu writes an inbox file in place (open, write, close): a file younger than this
        # may still be half written, so it waits for the next round.
        self.settle = settle

    def _scan(self, folder: Path, prefix: str):
        try:
            with os.scandir(folder) as entries:
                return [(e.name, e.stat().st_mtime) for e in entries
                        if e.name.upper().startswith(prefix) and e.is_file()]
        except FileNotFoundError:
            raise ChannelError(f"Folder {folder} tidak ada: jalankan `flask --app app "
                               "sms-setup`.") from None

    def claim(self, limit: int) -> list[Incoming]:
        now = time.time()
        groups: dict[str, list[tuple[str, str, float]]] = {}
        for name, mtime in self._scan(self.inbox, "IN"):
            base, _, part = name.rpartition(".")[0].rpartition("_")
            groups.setdefault(base, []).append((part, name, mtime))
        messages = []
        for base in sorted(groups):
            parts = sorted(groups[base])
            if now - max(mtime for *_, mtime in parts) < self.settle:
                continue
            sender = "_".join(base[2:].split("_")[3:])  # after date, time and serial
            names = [name for _, name, _ in parts]
            text = None
            if all(name.lower().endswith(".txt") for name in names):
                try:
                    text = "".join(read_text((self.inbox / name).read_bytes()) for name in names)
                except FileNotFoundError:  # another worker finished it a moment ago
                    continue
            messages.append(Incoming(f"file:{base}", sender, text,
                                     _utc(min(m for *_, m in parts)), names))
            if len(messages) >= limit:
                break
        return messages

    def after_commit(self, messages: list[Incoming]) -> None:
        # The files hold the NIK in clear; the log keeps the text with its digits masked.
        for message in messages:
            for name in message.handle:
                try:
                    os.unlink(self.inbox / name)
                except FileNotFoundError:
                    pass

    @staticmethod
    def outbox_name(row) -> str:
        """OUT<priority><date>_<time>_<serial>_<recipient>_<note>.txt: replies (A) before
        updates (B), then oldest first; the note is the log row's id, unique for ever."""
        priority = "A" if row.jenis == "balasan" else "B"
        return f"OUT{priority}{row.created_at:%Y%m%d_%H%M%S}_00_{row.nomor}_k{row.id}.txt"

    def hand_over(self, rows) -> list[str]:
        refs = []
        for row in rows:
            name = self.outbox_name(row)
            if not any((folder / name).exists() for folder in (self.outbox, self.sent,
                                                                self.error)):
                temporary = self.outbox / f".{name}.tmp"  # gammu skips hidden files
                with open(temporary, "wb") as fh:
                    fh.write(row.teks.encode("utf-16"))
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(temporary, self.outbox / name)
            refs.append(name)
        return refs

    def outcomes(self, refs: list[str]) -> dict[str, Outcome]:
        found = {}
        for ref in refs:
            for folder, sent, status in ((self.sent, True, "SendingOK"),
                                         (self.error, False, "SendingError")):
                try:
                    found[ref] = Outcome(sent, status, _utc((folder / ref).stat().st_mtime))
                    break
                except FileNotFoundError:
                    continue
        return found

    def health(self) -> dict:
        outbox = [m for name, m in self._scan(self.outbox, "OUT")]
        inbox = [m for name, m in self._scan(self.inbox, "IN")]
        return {"outbox": len(outbox), "outbox_oldest": _utc(min(outbox)) if outbox else None,
                "inbox": len(inbox), "inbox_oldest": _utc(min(inbox)) if inbox else None,
                "modem": None}

    def setup(self) -> list[str]:
        done = []
        for folder in (self.inbox, self.outbox, self.sent, self.error):
            if not folder.is_dir():
                folder.mkdir(parents=True, mode=0o750)
                done.append(f"Folder {folder} dibuat.")
        return done or [f"Folder gammu-smsd di {self.root} sudah ada."]

    def smsdrc(self) -> str:
        return "\n".join([
            "[smsd]", "service = files",
            f"inboxpath = {self.inbox}/", f"outboxpath = {self.outbox}/",
            f"sentsmspath = {self.sent}/", f"errorsmspath = {self.error}/",
            "inboxformat = unicode", "outboxformat = unicode", "transmitformat = auto"])
