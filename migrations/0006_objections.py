"""Public lists per desa and objections (sanggahan).

Frozen copies of the models as they were. Adds who ended an enrolment (models.end_enrolment),
an index to list a desa's recipients by name, the objection tables and their queue indexes.
"""
from peewee import *


def up(migrator, db):
    class Region(Model):
        kode = CharField(primary_key=True, max_length=13)
        class Meta:
            database = db
            table_name = 'wilayah'

    class User(Model):
        class Meta:
            database = db
            table_name = 'pengguna'

    # Who ended an enrolment. Tolerant: another branch's migration may have added it first.
    if 'diakhiri_oleh_id' not in {c.name for c in db.get_columns('kepesertaan')}:
        migrator.migrate(migrator.add_column(
            'kepesertaan', 'diakhiri_oleh_id',
            ForeignKeyField(User, null=True, field=User.id, column_name='diakhiri_oleh_id')))

    class Enrolment(Model):
        class Meta:
            database = db
            table_name = 'kepesertaan'

    class Objection(Model):
        kode = CharField(unique=True, max_length=8)
        enrolment = ForeignKeyField(Enrolment, column_name='kepesertaan_id')
        status = CharField(max_length=20)
        alasan = CharField(max_length=10)
        desa = ForeignKeyField(Region, column_name='desa_kode')
        kecamatan = ForeignKeyField(Region, column_name='kecamatan_kode')
        created_at = DateTimeField()
        tanggal_sanggah = DateField()
        tenggat = DateField(null=True)
        jumlah_penyanggah = IntegerField(default=1)
        diputus_at = DateTimeField(null=True)
        tanggal_putusan = DateField(null=True)
        diputus_oleh = ForeignKeyField(User, null=True, column_name='diputus_oleh_id')
        alasan_berakhir = CharField(null=True, max_length=10)
        tanggal_berakhir = DateField(null=True)
        catatan = TextField(default='')
        class Meta:
            database = db
            table_name = 'sanggahan'

    class Objector(Model):
        objection = ForeignKeyField(Objection, on_delete='CASCADE', column_name='sanggahan_id')
        alasan = CharField(max_length=10)
        keterangan = TextField(default='')
        nama = CharField(max_length=150)
        telepon = CharField(max_length=20)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'penyanggah'

    class ObjectionEvent(Model):
        objection = ForeignKeyField(Objection, on_delete='CASCADE', column_name='sanggahan_id')
        status = CharField(max_length=20)
        at = DateTimeField()
        actor = CharField(max_length=12)
        user = ForeignKeyField(User, null=True, column_name='user_id')
        note = TextField(default='')
        class Meta:
            database = db
            table_name = 'riwayat_sanggahan'

    class DailyQuota(Model):
        tanggal = DateField()
        telepon = CharField(max_length=20)
        jumlah = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'kuota_sanggah'
            primary_key = CompositeKey('tanggal', 'telepon')

    db.create_tables([Objection, Objector, ObjectionEvent, DailyQuota])
    for statement in INDEXES:
        db.execute_sql(statement)


OPEN = "WHERE status = 'menunggu-penilaian'"
INDEXES = [
    # A desa's public list, in name order (bulk.py drops and rebuilds it around big imports).
    "CREATE INDEX IF NOT EXISTS penduduk_desa ON penduduk (desa_kode, nama)",
    # One open objection per recipient: a further one attaches to it.
    f"CREATE UNIQUE INDEX sanggahan_terbuka ON sanggahan (kepesertaan_id) {OPEN}",
    # The reviewer queue, as for reports (0002).
    f"CREATE INDEX sanggahan_antrian ON sanggahan (tenggat, created_at, id, status) {OPEN}",
    "CREATE INDEX sanggahan_antrian_kec ON sanggahan "
    f"(kecamatan_kode, tenggat, created_at, id, status) {OPEN}",
]


def down(migrator, db):
    for name in ('sanggahan_antrian_kec', 'sanggahan_antrian', 'sanggahan_terbuka',
                 'penduduk_desa'):
        db.execute_sql(f'DROP INDEX IF EXISTS {name}')
    for table in ('kuota_sanggah', 'riwayat_sanggahan', 'penyanggah', 'sanggahan'):
        migrator.migrate(migrator.drop_table(table))
    migrator.migrate(migrator.drop_column('kepesertaan', 'diakhiri_oleh_id'))
