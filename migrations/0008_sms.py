"""Cek Bansos by SMS: the log of messages received and sent, and the opt-in to updates.

Frozen copies of the models as they were. Adds `kabar_sms` to reporters and objectors (they
asked for updates by SMS on the number they gave), and the two log tables of sms/models.py.
gammu-smsd's own tables (inbox, outbox, sentitems, ...) are not the app's: `flask sms-setup`
creates them from gammu's schema when SMS_URL names the PostgreSQL back-end.
"""
from peewee import *


def up(migrator, db):
    for table in ('pelapor', 'penyanggah'):
        if 'kabar_sms' not in {c.name for c in db.get_columns(table)}:
            migrator.migrate(migrator.add_column(table, 'kabar_sms', BooleanField(default=False)))

    class Report(Model):
        class Meta:
            database = db
            table_name = 'laporan'

    class Objection(Model):
        class Meta:
            database = db
            table_name = 'sanggahan'

    class InboundMessage(Model):
        kunci = CharField(unique=True, max_length=160)
        pengirim = CharField(max_length=64)
        pengirim_samaran = CharField(max_length=24)
        teks = CharField(max_length=200)
        perintah = CharField(max_length=10, default='')
        hasil = CharField(max_length=16)
        diterima_at = DateTimeField(null=True)
        diproses_at = DateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'sms_masuk'

    class OutboundMessage(Model):
        nomor = CharField(max_length=20)
        teks = TextField()
        jenis = CharField(max_length=8)
        masuk = ForeignKeyField(InboundMessage, null=True, column_name='sms_masuk_id',
                                on_delete='SET NULL')
        laporan = ForeignKeyField(Report, null=True, column_name='laporan_id',
                                  on_delete='CASCADE')
        sanggahan = ForeignKeyField(Objection, null=True, column_name='sanggahan_id',
                                    on_delete='CASCADE')
        status = CharField(max_length=10, default='antri')
        status_gammu = CharField(max_length=20, default='')
        ref = CharField(max_length=160, default='')
        created_at = DateTimeField()
        diserahkan_at = DateTimeField(null=True)
        selesai_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'sms_keluar'

    db.create_tables([InboundMessage, OutboundMessage])
    for statement in INDEXES:
        db.execute_sql(statement)


INDEXES = [
    # What the worker hands to gammu and follows up, oldest first: only the few waiting rows.
    "CREATE INDEX sms_keluar_menunggu ON sms_keluar (status, id) "
    "WHERE status IN ('antri', 'diserahkan')",
    # The channel's health: the last message sent, failures of the last day.
    "CREATE INDEX sms_keluar_selesai ON sms_keluar (status, selesai_at)",
    # Messages not answered as asked, newest first, for the admins' page.
    "CREATE INDEX sms_masuk_hasil ON sms_masuk (hasil, diproses_at)",
]


def down(migrator, db):
    for name in ('sms_masuk_hasil', 'sms_keluar_selesai', 'sms_keluar_menunggu'):
        db.execute_sql(f'DROP INDEX IF EXISTS {name}')
    for table in ('sms_keluar', 'sms_masuk'):
        migrator.migrate(migrator.drop_table(table))
    for table in ('penyanggah', 'pelapor'):
        migrator.migrate(migrator.drop_column(table, 'kabar_sms'))
