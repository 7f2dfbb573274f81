"""gammu-smsd for the app: the channel SMS_URL names, and the gammu-smsdrc that goes with it."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sms.channel import Channel, ChannelError
from sms.gammu_files import GammuFiles
from sms.gammu_sql import GammuSql

# A USB GSM modem (most show up as /dev/ttyUSB0, some as /dev/ttyACM0) speaking AT commands.
USB_MODEM = {"device": "/dev/ttyUSB0", "connection": "at"}
# The daemon's own settings, the same in production and in the tests with the fake phone.
DAEMON = {"logfile": "syslog", "debuglevel": "0", "commtimeout": "5", "receivefrequency": "5",
          "checksecurity": "1", "deliveryreport": "no"}


def open_channel(url: str | None, database=None, *, schema_path: str | None = None) -> Channel:
    """The channel SMS_URL names: `gammu-pgsql://` or `gammu-files:///folder`."""
    parts = urlsplit(url or "")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if parts.scheme == "gammu-pgsql":
        if parts.netloc or parts.path.strip("/"):
            raise ChannelError("SMS_URL gammu-pgsql:// memakai basis data aplikasi sendiri "
                               "(DATABASE_URL); jangan tulis alamat lain di belakangnya.")
        return GammuSql(database, schema_path=schema_path, phone_id=options.get("phone", ""))
    if parts.scheme == "gammu-files":
        if not parts.path.startswith("/") or parts.netloc:
            raise ChannelError("SMS_URL gammu-files:/// perlu folder lengkap, misalnya "
                               "gammu-files:///var/spool/cekbansos-sms")
        return GammuFiles(parts.path, settle=float(options.get("settle", 1.0)))
    raise ChannelError("SMS_URL tidak dikenal: pakai gammu-pgsql:// (PostgreSQL) atau "
                       "gammu-files:///folder (berkas).")


def smsdrc(channel: Channel, phone: dict | None = None, **daemon: str) -> str:
    """A whole gammu-smsdrc: the phone ([gammu]) and the daemon with this channel ([smsd])."""
    gammu = ["[gammu]", *(f"{key} = {value}" for key, value in (phone or USB_MODEM).items())]
    settings = {**DAEMON, **daemon}
    return "\n".join([*gammu, "", channel.smsdrc(),
                      *(f"{key} = {value}" for key, value in settings.items()), ""])
