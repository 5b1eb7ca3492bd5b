"""The first informed-consent text (R17). Clinics publish new versions; signatures keep theirs."""

from django.db import migrations
from django.utils import timezone

BODY = """Ketamine-Assisted Psychotherapy (KAP) combines psychotherapy with ketamine prescribed by an \
independent prescriber (a physician or psychiatric nurse practitioner). Your therapist does not \
prescribe, store or give you ketamine; you bring your own prescribed tablets to each dosing session \
and take them yourself.

What to expect. A course usually includes several preparation sessions, two to eight dosing \
sessions of about three hours, and at least one integration session after each dose. Your blood \
pressure is checked before each dose; a high reading means the dose is postponed.

Risks. Ketamine can cause dizziness, nausea, raised blood pressure and heart rate, blurred vision, \
a dreamlike or dissociated state, anxiety, and, rarely, bladder problems with frequent use. Its \
effects on driving last until the next day: you must not drive after a dosing session, and an adult \
you trust (your chaperone) must take you home.

Your part. You agree to give complete and truthful health information, to follow the prescriber's \
instructions, to keep your medication secure and never share it, and to tell your therapist about \
any new medication, pregnancy, or change in your health.

Your rights. Taking part is voluntary. You can stop the course at any time without affecting your \
other care. You can ask questions at any point.

Privacy. Your records are kept confidential and shared only with your prescriber and as the law \
requires. In an emergency, your therapist may contact your emergency contact or emergency services.
"""


def forwards(apps, schema_editor):
    ConsentDocument = apps.get_model("patients", "ConsentDocument")
    ConsentDocument.objects.get_or_create(
        version="2026-11-v1",
        defaults={
            "title": "Consent to Ketamine-Assisted Psychotherapy",
            "body": BODY,
            "published_at": timezone.now(),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("patients", "0002_client_record_intake_questionnaires")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
