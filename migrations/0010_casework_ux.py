"""Where to get help, and when aid comes (issue 17).

Frozen copies of the models as they were. Adds each office's contact details (kontak_kantor:
address, phone/WhatsApp, opening hours; `dinsos` for the Dinas Sosial itself) and each scheme's
distribution periods (jadwal_skema).
"""
from peewee import *


def up(migrator, db):
    class Scheme(Model):
        kode = CharField(primary_key=True, max_length=20)
        class Meta:
            database = db
            table_name = 'skema'

    class OfficeContact(Model):
        kode = CharField(primary_key=True, max_length=13)
        nama = CharField(max_length=150)
        alamat = CharField(max_length=300, default='')
        telepon = CharField(max_length=20, default='')
        whatsapp = CharField(max_length=20, default='')
        jam_buka = CharField(max_length=150, default='')
        diperbarui_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'kontak_kantor'

    class SchemePeriod(Model):
        id = AutoField()
        scheme = ForeignKeyField(Scheme, column_name='skema_kode', on_delete='CASCADE')
        nama = CharField(max_length=60)
        mulai = DateField()
        selesai = DateField()
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'jadwal_skema'

    db.create_tables([OfficeContact, SchemePeriod])


def down(migrator, db):
    for table in ('jadwal_skema', 'kontak_kantor'):
        migrator.migrate(migrator.drop_table(table))
