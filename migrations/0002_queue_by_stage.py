"""The queue indexes carry the status as a last column.

Filtered to one stage (`layak` say), the reviewer queue then finds, counts and pages its rows
inside the index instead of reading every open case from the table: 70 ms -> a few ms with
50,000 open cases. Same leading columns, so the unfiltered queue is served exactly as before.
"""

OPEN = "WHERE status IN ('menunggu-penilaian', 'layak')"


def up(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS laporan_antrian")
    db.execute_sql("DROP INDEX IF EXISTS laporan_antrian_kec")
    db.execute_sql(f"CREATE INDEX laporan_antrian ON laporan (tenggat, created_at, id, status) "
                   f"{OPEN}")
    db.execute_sql("CREATE INDEX laporan_antrian_kec ON laporan "
                   f"(kecamatan_kode, tenggat, created_at, id, status) {OPEN}")


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS laporan_antrian")
    db.execute_sql("DROP INDEX IF EXISTS laporan_antrian_kec")
    db.execute_sql(f"CREATE INDEX laporan_antrian ON laporan (tenggat, created_at, id) {OPEN}")
    db.execute_sql("CREATE INDEX laporan_antrian_kec ON laporan "
                   f"(kecamatan_kode, tenggat, created_at, id) {OPEN}")
