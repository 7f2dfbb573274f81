"""Staff security and retention.

- pengguna.sesi_epoch: bumped on sign-out and password change; part of every session's user id,
  so every session of that user ends at once, checked on the server.
- pengguna.totp_rahasia (the TOTP secret, encrypted) and pengguna.totp_langkah (the last time
  step accepted, so a code works once).
- laporan.dianonimkan_at: when the retention command blanked a closed report's personal data.
"""
from peewee import BigIntegerField, CharField, DateTimeField, IntegerField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('pengguna', 'sesi_epoch', IntegerField(default=0)),
        migrator.add_column('pengguna', 'totp_rahasia', CharField(max_length=255, null=True)),
        migrator.add_column('pengguna', 'totp_langkah', BigIntegerField(null=True)),
        migrator.add_column('laporan', 'dianonimkan_at', DateTimeField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column('pengguna', 'sesi_epoch'),
        migrator.drop_column('pengguna', 'totp_rahasia'),
        migrator.drop_column('pengguna', 'totp_langkah'),
        migrator.drop_column('laporan', 'dianonimkan_at'),
    )
