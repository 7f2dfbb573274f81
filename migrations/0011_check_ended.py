"""The check's answer (cases/lookup.py) for a NIK nothing covers looks up the enrolment that
ended last: a small index of ended enrolments in that order, so the look-up is one seek there
instead of a seek in every enrolment's NIK index followed by a sort."""


def up(migrator, db):
    db.execute_sql("CREATE INDEX IF NOT EXISTS kepesertaan_berakhir ON kepesertaan "
                   "(nik, berakhir DESC, id DESC) WHERE berakhir IS NOT NULL")


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS kepesertaan_berakhir")
