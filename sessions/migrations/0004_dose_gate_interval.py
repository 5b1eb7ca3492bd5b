"""R6 in the database's dose gate: a dose row is refused when another dose of the same client,
under any course or prescription, is too close to it.

The services check R6 exactly, in clinic calendar days (the next dose on or after the last dose's
date plus the prescription's minimum interval). The trigger is their backstop for any other code
path, and it must never refuse a dose the services allow: two doses on clinic dates N days apart
can be as little as N - 1 days and a minute apart, an hour less across a daylight-saving change.
So it refuses what is closer than (minimum interval - 1) days less an hour, whatever the time
zone: the 7 days of a 14-day prescription, never the last evening of day 13."""

from django.db import migrations

# The function as migration 0002 made it (R11-R13), for going back.
READINGS_ONLY = """
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
"""

WITH_INTERVAL = """
CREATE OR REPLACE FUNCTION clinic_sessions_dose_gate() RETURNS trigger AS $$
DECLARE
    reading clinic_sessions_bloodpressurereading%ROWTYPE;
    min_days integer;
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
    -- R6: another dose of the client too close, in any course (see the module's docstring).
    SELECT p.min_days_between_doses INTO min_days FROM patients_prescription p
        WHERE p.id = NEW.prescription_id;
    IF EXISTS (
        SELECT 1 FROM clinic_sessions_doseadministration other
        JOIN clinic_sessions_session s ON s.id = other.session_id
        WHERE s.client_id = (SELECT client_id FROM clinic_sessions_session
                             WHERE id = NEW.session_id)
          AND other.id IS DISTINCT FROM NEW.id
          AND abs(extract(epoch FROM NEW.given_at - other.given_at))
              < extract(epoch FROM make_interval(days => min_days - 1) - interval '1 hour')
    ) THEN
        RAISE EXCEPTION 'R6: another dose of this client is closer than the prescription''s '
            'minimum interval' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(WITH_INTERVAL, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(READINGS_ONLY, params=None)


class Migration(migrations.Migration):
    dependencies = [("clinic_sessions", "0003_session_status_changed_by")]

    operations = [migrations.RunPython(forwards, backwards)]
