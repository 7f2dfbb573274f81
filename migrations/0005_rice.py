"""Rice aid in kind: distribution programmes by stage, their family lists, batches and cooking
tests (uji tanak), hand-overs, returns and replacements.

The rule "one hand-over per programme, stage and family" is the unique index on serah_beras
(program_id, no_kk, tahap). Frozen copies of the models as they were; the tables they point to
(wilayah, skema, pengguna) are declared by their keys only and not created here.
"""
from peewee import *


def up(migrator, db):
    class Region(Model):
        kode = CharField(primary_key=True, max_length=13)
        class Meta:
            database = db
            table_name = 'wilayah'

    class Scheme(Model):
        kode = CharField(primary_key=True, max_length=20)
        class Meta:
            database = db
            table_name = 'skema'

    class User(Model):
        class Meta:
            database = db
            table_name = 'pengguna'

    class Programme(Model):
        nama = CharField(max_length=200)
        scheme = ForeignKeyField(Scheme, column_name='skema_kode')
        jumlah_tahap = IntegerField()
        gram_per_tahap = IntegerField()
        gudang = CharField(max_length=200)
        created_at = DateTimeField()
        dibuat_oleh = ForeignKeyField(User, null=True, column_name='dibuat_oleh_id')
        daftar_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'program_beras'

    class Stage(Model):
        programme = ForeignKeyField(Programme, column_name='program_id', on_delete='CASCADE',
                                    index=False)
        tahap = IntegerField()
        rencana = DateField()
        class Meta:
            database = db
            table_name = 'tahap_beras'
            indexes = ((('programme', 'tahap'), True),)

    class Family(Model):
        programme = ForeignKeyField(Programme, column_name='program_id', index=False)
        no_kk = CharField(max_length=16)
        nik = CharField(max_length=16)
        desa = ForeignKeyField(Region, column_name='desa_kode', index=False)
        kecamatan = ForeignKeyField(Region, column_name='kecamatan_kode', index=False)
        ditambahkan_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'penerima_beras'
            indexes = ((('programme', 'no_kk'), True), (('programme', 'kecamatan'), False))

    class Batch(Model):
        programme = ForeignKeyField(Programme, column_name='program_id', index=False)
        tahap = IntegerField()
        kode = CharField(max_length=50)
        gudang = CharField(max_length=200)
        status = CharField(max_length=12, default='belum-diuji')
        lulus_tanggal = DateField(null=True)
        class Meta:
            database = db
            table_name = 'batch_beras'
            indexes = ((('programme', 'tahap', 'kode'), True),)

    class CookingTest(Model):
        batch = ForeignKeyField(Batch, column_name='batch_id')
        tanggal = DateField()
        tempat = CharField(max_length=200)
        hadir = TextField()
        hasil = CharField(max_length=12)
        catatan = TextField(default='')
        dicatat_oleh = ForeignKeyField(User, null=True, column_name='dicatat_oleh_id')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'uji_tanak'

    class Handover(Model):
        programme = ForeignKeyField(Programme, column_name='program_id', index=False)
        tahap = IntegerField()
        no_kk = CharField(max_length=16)
        kecamatan = ForeignKeyField(Region, column_name='kecamatan_kode', index=False)
        batch = ForeignKeyField(Batch, column_name='batch_id', index=False)
        tanggal = DateField()
        dicatat_at = DateTimeField()
        petugas = ForeignKeyField(User, null=True, column_name='petugas_id', index=False)
        titik = CharField(max_length=150, default='')
        sumber = CharField(max_length=200)
        nik_pengambil = CharField(max_length=16, null=True)
        class Meta:
            database = db
            table_name = 'serah_beras'
            indexes = ((('programme', 'no_kk', 'tahap'), True),
                       (('programme', 'tahap', 'kecamatan', 'tanggal'), False))

    class Return(Model):
        handover = ForeignKeyField(Handover, column_name='serah_id')
        gram = IntegerField()
        alasan = CharField(max_length=10)
        catatan = TextField(default='')
        tanggal = DateField()
        dicatat_oleh = ForeignKeyField(User, null=True, column_name='dicatat_oleh_id',
                                       index=False)
        created_at = DateTimeField()
        tanggal_ganti = DateField(null=True)
        batch_ganti = ForeignKeyField(Batch, null=True, column_name='batch_ganti_id',
                                      index=False)
        diganti_oleh = ForeignKeyField(User, null=True, column_name='diganti_oleh_id',
                                       index=False)
        catatan_ganti = TextField(default='')
        class Meta:
            database = db
            table_name = 'pengembalian_beras'

    db.create_tables([Programme, Stage, Family, Batch, CookingTest, Handover, Return])


def down(migrator, db):
    for table in ('pengembalian_beras', 'serah_beras', 'uji_tanak', 'batch_beras',
                  'penerima_beras', 'tahap_beras', 'program_beras'):
        migrator.migrate(migrator.drop_table(table))
