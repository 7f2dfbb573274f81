"""Browser imports: the job table `impor` (status, progress, heartbeat, counts).

PostgreSQL only. On SQLite the job rows live in a small database file of their own next to the
main one (jobs.py creates it): the import holds the main file's write lock for minutes, and the
worker must keep writing its progress meanwhile.
"""
from peewee import *


def up(migrator, db):
    if not isinstance(db, PostgresqlDatabase):
        return

    class ImportJob(Model):
        status = CharField(max_length=12, default='menunggu')
        filename = CharField(max_length=200)
        folder = CharField(max_length=500)
        size = BigIntegerField(default=0)
        estimated_rows = IntegerField(default=0)
        skip_invalid = BooleanField(default=False)
        username = CharField(max_length=50)
        created_at = DateTimeField()
        started_at = DateTimeField(null=True)
        finished_at = DateTimeField(null=True)
        host = CharField(max_length=255, default='')
        pid = IntegerField(null=True)
        heartbeat_at = DateTimeField(null=True)
        phase = CharField(max_length=12, default='')
        done = BigIntegerField(default=0)
        total = BigIntegerField(default=0)
        cancel_requested = BooleanField(default=False)
        rows = IntegerField(default=0)
        problems = IntegerField(default=0)
        problem_rows = IntegerField(default=0)
        people_added = IntegerField(default=0)
        people_updated = IntegerField(default=0)
        people_unchanged = IntegerField(default=0)
        enrolled = IntegerField(default=0)
        already_enrolled = IntegerField(default=0)
        error = TextField(default='')

        class Meta:
            database = db
            table_name = 'impor'
    db.create_tables([ImportJob])


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql('DROP TABLE IF EXISTS impor')
