"""The first schema: region and scheme reference data, the register, staff accounts, reports.

Frozen copies of the models as they were; the application's models may move on.
"""
from peewee import *


def up(migrator, db):
    class Region(Model):
        kode = CharField(primary_key=True, max_length=13)
        nama = CharField(max_length=100)
        tingkat = CharField(max_length=10)
        kecamatan = ForeignKeyField('self', null=True, column_name='kecamatan_kode')
        class Meta:
            database = db
            table_name = 'wilayah'
    db.create_tables([Region])

    class Person(Model):
        nik = CharField(primary_key=True, max_length=16)
        no_kk = CharField(index=True, null=True, max_length=16)
        nama = CharField(max_length=150)
        alamat = CharField(max_length=300)
        desa = ForeignKeyField(Region, column_name='desa_kode', index=False)
        class Meta:
            database = db
            table_name = 'penduduk'
    db.create_tables([Person])

    class Scheme(Model):
        kode = CharField(primary_key=True, max_length=20)
        nama = CharField(max_length=200)
        tingkat = CharField(max_length=10)
        satuan = CharField(max_length=10)
        manfaat = TextField(default='')
        aktif = BooleanField(default=True)
        class Meta:
            database = db
            table_name = 'skema'
    db.create_tables([Scheme])

    class Enrolment(Model):
        person = ForeignKeyField(Person, column_name='nik')
        scheme = ForeignKeyField(Scheme, column_name='skema_kode')
        family_kk = CharField(null=True, max_length=16)
        sejak = DateField()
        sumber = CharField(max_length=200)
        berakhir = DateField(null=True)
        alasan_berakhir = CharField(null=True, max_length=200)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'kepesertaan'
    db.create_tables([Enrolment])

    class User(Model):
        username = CharField(unique=True, max_length=50)
        password_hash = CharField()
        role = CharField(max_length=12)
        kantor = ForeignKeyField(Region, null=True, column_name='kantor_kode')
        aktif = BooleanField(default=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'pengguna'
    db.create_tables([User])

    class Report(Model):
        kode = CharField(unique=True, max_length=8)
        status = CharField(max_length=20)
        nik = CharField(index=True, max_length=16)
        nama = CharField(max_length=150)
        no_kk = CharField(null=True, max_length=16)
        alamat = CharField(max_length=300)
        desa = ForeignKeyField(Region, column_name='desa_kode')
        kecamatan = ForeignKeyField(Region, column_name='kecamatan_kode')
        kategori = CharField(max_length=30)
        keterangan = TextField(default='')
        kanal = CharField(max_length=10)
        kantor = ForeignKeyField(Region, null=True, column_name='kantor_kode')
        created_at = DateTimeField()
        tanggal_lapor = DateField()
        tenggat = DateField(null=True)
        jumlah_pelapor = IntegerField(default=1)
        skema_penutup = ForeignKeyField(Scheme, null=True, column_name='skema_penutup_kode')
        penutup_via = CharField(null=True, max_length=10)
        diputus_at = DateTimeField(null=True)
        tanggal_putusan = DateField(null=True)
        diputus_oleh = ForeignKeyField(User, null=True)
        skema = ForeignKeyField(Scheme, null=True, column_name='skema_kode')
        alasan = CharField(null=True, max_length=30)
        catatan = TextField(default='')
        tanggal_salur = DateField(null=True)
        disalurkan_oleh = ForeignKeyField(User, null=True)
        keterangan_salur = TextField(default='')
        tepat_waktu = BooleanField(null=True)
        class Meta:
            database = db
            table_name = 'laporan'
    db.create_tables([Report])

    class Reporter(Model):
        report = ForeignKeyField(Report, on_delete='CASCADE')
        hubungan = CharField(max_length=12)
        nama = CharField(max_length=150)
        nik = CharField(null=True, max_length=16)
        telepon = CharField(null=True, max_length=20)
        kanal = CharField(max_length=10)
        kantor = ForeignKeyField(Region, null=True, column_name='kantor_kode')
        petugas = ForeignKeyField(User, null=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'pelapor'
    db.create_tables([Reporter])

    class ReportEvent(Model):
        report = ForeignKeyField(Report, on_delete='CASCADE')
        status = CharField(max_length=20)
        at = DateTimeField()
        actor = CharField(max_length=12)
        user = ForeignKeyField(User, null=True)
        note = TextField(default='')
        class Meta:
            database = db
            table_name = 'riwayat_laporan'
    db.create_tables([ReportEvent])

    for statement in PARTIAL_INDEXES:
        db.execute_sql(statement)


PARTIAL_INDEXES = [
    # One scheme per NIK (SPEC 3.3 rule 1), among enrolments that have not ended.
    "CREATE UNIQUE INDEX kepesertaan_aktif_nik ON kepesertaan (nik) WHERE berakhir IS NULL",
    # One family scheme per family card (rule 2).
    "CREATE UNIQUE INDEX kepesertaan_aktif_kk ON kepesertaan (family_kk) "
    "WHERE berakhir IS NULL AND family_kk IS NOT NULL",
    # One open case per NIK (rule 7): a duplicate report attaches to it instead.
    "CREATE UNIQUE INDEX laporan_terbuka_nik ON laporan (nik) "
    "WHERE status IN ('menunggu-penilaian', 'layak')",
    # The reviewer queue in deadline order, optionally within one kecamatan. Queries repeat the
    # exact IN (...) term so SQLite's planner may use these partial indexes.
    "CREATE INDEX laporan_antrian ON laporan (tenggat, created_at, id) "
    "WHERE status IN ('menunggu-penilaian', 'layak')",
    "CREATE INDEX laporan_antrian_kec ON laporan (kecamatan_kode, tenggat, created_at, id) "
    "WHERE status IN ('menunggu-penilaian', 'layak')",
]


def down(migrator, db):
    migrator.migrate(migrator.drop_table('riwayat_laporan'))
    migrator.migrate(migrator.drop_table('pelapor'))
    migrator.migrate(migrator.drop_table('laporan'))
    migrator.migrate(migrator.drop_table('pengguna'))
    migrator.migrate(migrator.drop_table('kepesertaan'))
    migrator.migrate(migrator.drop_table('skema'))
    migrator.migrate(migrator.drop_table('penduduk'))
    migrator.migrate(migrator.drop_table('wilayah'))
