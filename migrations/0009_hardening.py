"""Hardening: the audit log of who processed personal data (office/audit.py).

Frozen copies of the models as they were.
"""
from peewee import *


def up(migrator, db):
    class AuditEntry(Model):
        at = DateTimeField(index=True)
        actor = CharField(max_length=64)
        action = CharField(max_length=30)
        subject = CharField(max_length=200, default='')
        class Meta:
            database = db
            table_name = 'jejak_audit'
            indexes = ((('action', 'at'), False), (('actor', 'at'), False))

    db.create_tables([AuditEntry])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('jejak_audit'))
