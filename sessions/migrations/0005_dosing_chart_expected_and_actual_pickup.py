"""R15: the pickup time was typed with the return notes, before discharge, and discharge did not
compare it with the discharge time: a client could be discharged "into the care of" a chaperone
due a quarter of an hour later. Now the return notes keep the *expected* pickup time
(``pickup_expected_at``) and discharge asks when the chaperone actually arrived (``pickup_at``),
refusing a discharge before it.

Existing rows: every stored ``pickup_at`` was typed with the return notes, so it is copied to
``pickup_expected_at``. On a chart not discharged yet it is cleared: the arrival is asked at
discharge. On a discharged chart it stays as recorded (the constraint
dosing_discharge_needs_chaperone needs it, and there is nothing better to put there); it may be
after the discharge time on charts discharged before this migration."""

from django.db import migrations, models


def expected_from_typed(apps, schema_editor):
    DosingChart = apps.get_model("clinic_sessions", "DosingChart")
    DosingChart.objects.filter(pickup_at__isnull=False).update(
        pickup_expected_at=models.F("pickup_at")
    )
    DosingChart.objects.filter(discharged_at__isnull=True).update(pickup_at=None)


def typed_from_expected(apps, schema_editor):
    DosingChart = apps.get_model("clinic_sessions", "DosingChart")
    DosingChart.objects.filter(discharged_at__isnull=True).update(
        pickup_at=models.F("pickup_expected_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("clinic_sessions", "0004_dose_gate_interval"),
    ]

    operations = [
        migrations.AddField(
            model_name="dosingchart",
            name="pickup_expected_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="expected pickup time"),
        ),
        migrations.AlterField(
            model_name="dosingchart",
            name="pickup_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="pickup time (the chaperone arrived)"
            ),
        ),
        migrations.RunPython(expected_from_typed, typed_from_expected),
    ]
