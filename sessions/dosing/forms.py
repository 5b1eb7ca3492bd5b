"""Input boundary for the dosing chart (R10-R16). The forms shape what was typed and give
field-level messages; every rule is checked again in dosing_services, so a crafted POST gets the
same refusal as the page.

Times are typed as a clock time (``<input type="time">``) on the session's day and combined here
in the clinic's time zone: clinicians chart "10:42", not a date and a time zone."""

from __future__ import annotations

from datetime import date, datetime

from django import forms
from django.utils import timezone

from clinic.table import BY_FIELD as CLINIC_SETTINGS
from kap_clinic.fields import ClinicalNumberField
from sessions.dosing import rules
from sessions.models import AdverseEvent, BloodPressureReading

# R10: the hold time's allowed range is the clinic setting's (clinic/table.py).
HOLD = CLINIC_SETTINGS["dose_hold_minutes"]
HOLD_RANGE = f"The hold time must be between {HOLD.low} and {HOLD.high} minutes."


class ClockInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs={"class": "clock-input", **(attrs or {})}, format="%H:%M")


def clock_field(label: str, *, required: bool = True, help_text: str = "", now: bool = True):
    """A clock time. ``now``: the page keeps an untouched field at the current time
    (static/js/dosing.js), so a form left open for a while does not chart a stale time."""
    attrs = {"data-default-now": ""} if now else {}
    return forms.TimeField(
        label=label,
        required=required,
        help_text=help_text,
        widget=ClockInput(attrs),
        input_formats=["%H:%M", "%H:%M:%S", "%I:%M %p"],
        error_messages={"required": "Enter the time.", "invalid": "Enter a time such as 10:42."},
    )


def number_input(low: int, high: int, **attrs) -> forms.NumberInput:
    return forms.NumberInput(
        attrs={"inputmode": "numeric", "min": low, "max": high, "step": 1, **attrs}
    )


class DayForm(forms.Form):
    """A form whose clock times fall on ``day`` (the session's date in the clinic's time zone)."""

    # Server-side messages name the allowed range; the browser's own bubbles would not.
    use_required_attribute = False

    def __init__(self, *args, day: date, prefix_id: str, **kwargs):
        kwargs.setdefault("auto_id", f"id_{prefix_id}_%s")
        super().__init__(*args, **kwargs)
        self.day = day
        # The page shows a refusal next to the form it belongs to (dosing_views: ``where``).
        self.key = prefix_id

    def at(self, value) -> datetime | None:
        if value is None:
            return None
        return timezone.make_aware(datetime.combine(self.day, value))


class PrepareForm(DayForm):
    check_in = forms.CharField(
        label="Check-in",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="How the client is arriving today: fears, hopes, anything that needs attention.",
    )
    intention = forms.CharField(
        label="The client's intention for this session",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required before the blood-pressure check.",
    )
    fasting_confirmed = forms.BooleanField(label="Client has fasted", required=False)
    chaperone_confirmed = forms.BooleanField(
        label="Chaperone arranged to take the client home", required=False
    )
    # R20: shown (and needed) only while a positive PHQ-9 item 9 is not yet acknowledged.
    acknowledge_safety = forms.BooleanField(
        label="I have reviewed this with the client today", required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix_id="prep", **kwargs)


class ReadingForm(DayForm):
    """A blood-pressure reading. R16's physiological limits are checked here (with the range in
    the message) before the service sees the numbers; the service checks them again."""

    moment = forms.ChoiceField(
        label="When was it taken?",
        choices=BloodPressureReading.Moment.choices,
        widget=forms.RadioSelect,
    )
    systolic = ClinicalNumberField(
        label="Systolic (mmHg)",
        widget=number_input(*rules.SYSTOLIC_RANGE, placeholder="e.g. 128"),
        error_messages={"required": "Enter the systolic (top) number."},
    )
    diastolic = ClinicalNumberField(
        label="Diastolic (mmHg)",
        widget=number_input(*rules.DIASTOLIC_RANGE, placeholder="e.g. 82"),
        error_messages={"required": "Enter the diastolic (bottom) number."},
    )
    pulse = ClinicalNumberField(
        label="Pulse (beats per minute)",
        required=False,
        widget=number_input(*rules.PULSE_RANGE, placeholder="optional"),
    )
    taken_time = clock_field("Time taken")

    def __init__(self, *args, pre_dose: bool, **kwargs):
        super().__init__(*args, prefix_id="pre" if pre_dose else "post", **kwargs)
        self.pre_dose = pre_dose
        if pre_dose:
            self.fields["moment"].widget = forms.HiddenInput()
            self.fields["moment"].initial = BloodPressureReading.Moment.PRE_DOSE
        else:
            self.fields["moment"].choices = [
                c for c in BloodPressureReading.Moment.choices if c[0] != "pre_dose"
            ]
            self.fields["moment"].label = "Which reading is this?"
            self.fields["moment"].initial = BloodPressureReading.Moment.POST_DOSE

    def clean(self):
        data = super().clean()
        systolic, diastolic = data.get("systolic"), data.get("diastolic")
        if systolic is None or diastolic is None:
            return data
        for problem in rules.reading_problems(systolic, diastolic, data.get("pulse")):
            # R16: each message names the allowed range and what was typed.
            field = next(
                (f for f in ("systolic", "diastolic", "pulse") if problem.startswith(f.title())),
                "diastolic",
            )
            self.add_error(field, problem)
        data["taken_at"] = self.at(data.get("taken_time"))
        return data


class DeferForm(DayForm):
    note = forms.CharField(
        label="Reason for deferring the dose",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example: the client feels unwell, or decided not to go ahead today.",
        error_messages={"required": "Give the reason for deferring the dose."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix_id="defer", **kwargs)


class DoseForm(DayForm):
    given_time = clock_field("Time given")
    dose_mg = ClinicalNumberField(
        label="Dose (mg)", min_value=1, max_value=2000, widget=number_input(1, 2000)
    )
    tablets = ClinicalNumberField(
        label="Number of tablets", min_value=1, max_value=20, widget=number_input(1, 20)
    )
    mismatch_reason = forms.CharField(
        label="Explain the difference from the prescription",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed only when the dose or the number of tablets differs from the "
        "prescription.",
    )
    hold_minutes = ClinicalNumberField(
        label="Hold time (minutes)",
        min_value=HOLD.low,
        max_value=HOLD.high,
        widget=number_input(HOLD.low, HOLD.high),
        help_text="How long the client holds the dissolved tablets in the mouth: "
        f"{HOLD.low} to {HOLD.high} minutes.",
        error_messages={"min_value": HOLD_RANGE, "max_value": HOLD_RANGE},
    )
    eye_mask = forms.BooleanField(label="Eye mask", required=False)
    music = forms.BooleanField(label="Music", required=False)
    setting_notes = forms.CharField(
        label="Set and setting notes",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix_id="dose", **kwargs)

    def clean(self):
        data = super().clean()
        data["given_at"] = self.at(data.get("given_time"))
        return data


class HoldEndForm(DayForm):
    spat_time = clock_field("Spat out at")
    swallowed = forms.TypedChoiceField(
        label="Was some swallowed?",
        choices=[("no", "No"), ("yes", "Yes, some was swallowed")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether some was swallowed."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix_id="hold", **kwargs)

    def clean(self):
        data = super().clean()
        data["spat_at"] = self.at(data.get("spat_time"))
        return data


class AdverseEventForm(DayForm):
    kind = forms.ChoiceField(
        label="What happened?",
        choices=[("", "Choose…"), *AdverseEvent.Kind.choices],
        error_messages={"required": "Choose what happened."},
    )
    severity = forms.ChoiceField(
        label="Severity",
        choices=AdverseEvent.Severity.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how severe it was."},
    )
    noticed_time = clock_field("Time noticed")
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when you choose “Other”.",
    )
    rescue_medication = forms.CharField(
        label="Rescue medication given", required=False, max_length=200
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix_id="ae", **kwargs)

    def clean(self):
        data = super().clean()
        data["noticed_at"] = self.at(data.get("noticed_time"))
        return data


class ReturnForm(DayForm):
    return_notes = forms.CharField(
        label="Return and processing notes",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What came up as the client returned; snack and grounding.",
    )
    chaperone_name = forms.CharField(label="Chaperone's name", required=False, max_length=150)
    chaperone_phone = forms.CharField(
        label="Chaperone's phone",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    pickup_expected_time = clock_field(
        "Expected pickup time",
        required=False,
        now=False,
        help_text="When the chaperone is due. The time they arrive is asked at discharge.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix_id="return", **kwargs)

    def clean(self):
        data = super().clean()
        data["pickup_expected_at"] = self.at(data.get("pickup_expected_time"))
        return data


class DischargeForm(DayForm):
    """R15: the client leaves with the chaperone, so discharge asks when the chaperone arrived
    (default now). The service refuses a time in the future, or a discharge before it."""

    pickup_time = clock_field(
        "Time the chaperone arrived",
        help_text="The client is discharged into the chaperone's care once they are here.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix_id="discharge", **kwargs)

    def clean(self):
        data = super().clean()
        data["pickup_at"] = self.at(data.get("pickup_time"))
        return data


class NoticeDoneForm(DayForm):
    note = forms.CharField(
        label="How was the prescriber informed?",
        max_length=500,
        help_text="For example: phone call with Dr Lee at 11:05, or a secure message.",
        error_messages={"required": "Say how the prescriber was informed."},
    )

    def __init__(self, *args, notice_id: int, **kwargs):
        super().__init__(*args, prefix_id=f"notice{notice_id}", **kwargs)
