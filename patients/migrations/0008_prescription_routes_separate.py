"""R4: the prescription's route, one choice per route. "Oral (buccal)" merged two routes: a
lozenge or tablet held in the mouth (buccal) and one swallowed (oral). What the clinic recorded
under it was the office KAP troche/RDT held in the mouth and spat out after the hold (R10: the
chart records a hold time and the time spat out), which is buccal absorption, so every stored
"oral" becomes "buccal"; "oral" now means swallowed. IM, IV and intranasal are added as routes a
prescriber may use (the dosing chart refuses them, sessions.dosing.rules.route_blocker), and a
check constraint keeps the column to the six values.

Reversing maps "buccal" back to the merged "oral". A prescription recorded since with a route the
old choices did not have (swallowed oral, IM, IV, intranasal) cannot be expressed in them: the
reversal refuses rather than guess."""

from django.db import migrations, models

OLD_MERGED = "oral"  # labelled "Oral (buccal)" before this migration
BUCCAL = "buccal"


def merged_oral_to_buccal(apps, schema_editor):
    Prescription = apps.get_model("patients", "Prescription")
    Prescription.objects.filter(route=OLD_MERGED).update(route=BUCCAL)


def buccal_to_merged_oral(apps, schema_editor):
    Prescription = apps.get_model("patients", "Prescription")
    newer = Prescription.objects.exclude(route__in=["sublingual", BUCCAL])
    if newer.exists():
        raise RuntimeError(
            f"{newer.count()} prescription(s) have a route (oral swallowed, IM, IV or intranasal) "
            "the earlier choices cannot hold; change them before reversing this migration."
        )
    Prescription.objects.filter(route=BUCCAL).update(route=OLD_MERGED)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0007_outbox_messages"),
    ]

    operations = [
        migrations.AlterField(
            model_name="prescription",
            name="route",
            field=models.CharField(
                choices=[
                    ("sublingual", "Sublingual"),
                    ("buccal", "Buccal"),
                    ("oral", "Oral (swallowed)"),
                    ("intramuscular", "Intramuscular (IM)"),
                    ("intravenous", "Intravenous (IV)"),
                    ("intranasal", "Intranasal"),
                ],
                default="sublingual",
                help_text=(
                    "Sublingual: held under the tongue. Buccal: held between the cheek and the "
                    "gum. Oral: swallowed. The dosing chart records only these three, which the "
                    "client self-administers; IM, IV and intranasal doses are given by the "
                    "prescriber."
                ),
                max_length=16,
            ),
        ),
        migrations.RunPython(merged_oral_to_buccal, buccal_to_merged_oral),
        migrations.AddConstraint(
            model_name="prescription",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    route__in=[
                        "sublingual",
                        "buccal",
                        "oral",
                        "intramuscular",
                        "intravenous",
                        "intranasal",
                    ]
                ),
                name="prescription_route_valid",
            ),
        ),
    ]
