"""Two rules the PostgreSQL database itself holds, whatever code path writes (SQLite, the
`make run` default, relies on the services' checks):

- no double booking: a therapist's sessions that hold their slot (all but cancelled ones) never
  overlap: an exclusion constraint on (therapist, [starts_at, ends_at)) with btree_gist;
- R11/R13: a dose administration row needs an in-range pre-dose reading of the same session,
  taken at most 30 minutes before the time given, with no higher reading after it and no
  hard-stop reading that day (a trigger, since a CHECK cannot look at another table)."""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

EXCLUSION = """
ALTER TABLE clinic_sessions_session ADD CONSTRAINT session_no_double_booking
EXCLUDE USING gist (therapist_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
WHERE (status <> 'cancelled');
"""

DOSE_GATE = """
CREATE OR REPLACE FUNCTION clinic_sessions_dose_gate() RETURNS trigger AS $$
DECLARE
    reading clinic_sessions_bloodpressurereading%ROWTYPE;
BEGIN
    SELECT * INTO reading FROM clinic_sessions_bloodpressurereading
        WHERE id = NEW.pre_dose_reading_id;
    IF NOT FOUND
        OR reading.session_id <> NEW.session_id
        OR reading.moment <> 'pre_dose'
        OR reading.result <> 'in_range'
        OR NEW.given_at < reading.taken_at
        OR NEW.given_at > reading.taken_at + interval '30 minutes'
    THEN
        RAISE EXCEPTION 'R11: a dose needs an in-range pre-dose reading of this session from the '
            'last 30 minutes' USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (
        SELECT 1 FROM clinic_sessions_bloodpressurereading later
        WHERE later.session_id = NEW.session_id AND later.moment = 'pre_dose'
          AND (later.result = 'hard_stop'
               OR (later.result <> 'in_range' AND later.taken_at > reading.taken_at
                   AND later.taken_at <= NEW.given_at))
    ) THEN
        RAISE EXCEPTION 'R12/R13: a higher pre-dose reading stands in the way of this dose'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER clinic_sessions_dose_gate BEFORE INSERT OR UPDATE
    ON clinic_sessions_doseadministration
    FOR EACH ROW EXECUTE FUNCTION clinic_sessions_dose_gate();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(EXCLUSION, params=None)
    schema_editor.execute(DOSE_GATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS clinic_sessions_dose_gate ON clinic_sessions_doseadministration;",
        None,
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS clinic_sessions_dose_gate();", None)
    schema_editor.execute(
        "ALTER TABLE clinic_sessions_session DROP CONSTRAINT IF EXISTS session_no_double_booking;",
        None,
    )


class Migration(migrations.Migration):
    dependencies = [("clinic_sessions", "0001_initial")]

    operations = [BtreeGistExtension(), migrations.RunPython(forwards, backwards)]
