"""Office data: remembered column mappings of imports, families' DTSEN desil, schemes' limits.

Frozen copies of the models as they were. The desil limits of PKH (4) and BPNT, the Sembako
programme (5), are set for databases that already hold the schemes; a new database gets them
from data/schemes.csv.
"""
from peewee import *


def up(migrator, db):
    class ColumnMapping(Model):
        kunci = CharField(max_length=64, primary_key=True)
        jenis = CharField(max_length=12)
        judul = TextField()
        kolom = TextField()
        dibuat_oleh = CharField(max_length=50)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'pemetaan_kolom'

    class FamilyDesil(Model):
        no_kk = CharField(max_length=16, primary_key=True)
        desil = SmallIntegerField()
        sumber = CharField(max_length=200)
        diperbarui_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'desil_keluarga'

    db.create_tables([ColumnMapping, FamilyDesil])
    if 'desil_maks' not in {c.name for c in db.get_columns('skema')}:
        migrator.migrate(migrator.add_column('skema', 'desil_maks', IntegerField(null=True)))
    for kode, limit in (('PKH', 4), ('BPNT', 5)):
        db.execute_sql(f"UPDATE skema SET desil_maks = {limit} WHERE kode = '{kode}' "
                       "AND desil_maks IS NULL")


def down(migrator, db):
    migrator.migrate(migrator.drop_column('skema', 'desil_maks'))
    for table in ('desil_keluarga', 'pemetaan_kolom'):
        migrator.migrate(migrator.drop_table(table))
