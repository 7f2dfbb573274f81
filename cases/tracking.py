"""What every case shares, a report's or an objection's: a tracking code to read aloud, and the
deadline of its open stage in days left."""
from __future__ import annotations

from formats import today
from vocabulary import OPEN_STATUSES


class TrackedCase:
    """What a report and an objection share: a tracking code and the deadline of the open stage.

    `OPEN` names the statuses in which the deadline runs.
    """

    OPEN: tuple[str, ...] = OPEN_STATUSES

    @property
    def kode_display(self) -> str:
        return f"{self.kode[:4]}-{self.kode[4:]}"

    @property
    def days_left(self) -> int | None:
        """Sisa hari: deadline date minus today (WIB); negative when overdue."""
        if self.tenggat is None or self.status not in self.OPEN:
            return None
        return (self.tenggat - today()).days

    @classmethod
    def by_code(cls, kode: str | None):
        """The case with this tracking code, typed in any case, with or without the dash."""
        clean = "".join(ch for ch in (kode or "").upper() if ch.isalnum())
        return cls.get_or_none(cls.kode == clean) if len(clean) == 8 else None
