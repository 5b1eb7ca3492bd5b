"""Input boundary for treatment courses (R1): opening a course or a booster, and a phase change
with its reason. The services check every rule again; these forms only shape the input and give
field-level messages."""

from __future__ import annotations

from django import forms

from patients.models import Client, Phase, TreatmentCourse


class CourseOpenForm(forms.Form):
    booster_of = forms.ModelChoiceField(
        queryset=TreatmentCourse.objects.none(), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        # Only this client's courses: an id from another client's record is simply invalid.
        self.fields["booster_of"].queryset = TreatmentCourse.objects.filter(client=client)


class TransitionForm(forms.Form):
    """One phase change. ``auto_id`` differs per action so several forms share a page."""

    # Server-side checks give the accessible error summary (templates/partials/form_errors.html).
    use_required_attribute = False

    to_phase = forms.ChoiceField(choices=Phase.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(
        required=False, label="Yes, the client is ending this course. This cannot be undone."
    )

    def __init__(self, *args, kind: str = "", **kwargs):
        kwargs.setdefault("auto_id", f"id_{kind or 'change'}_%s")
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind == "hold":
            self.fields["reason"].label = "Reason for the hold"
            self.fields["reason"].help_text = "For example: travelling for three weeks."
        elif kind == "discontinue":
            self.fields["reason"].label = "Reason for discontinuing"
            self.fields["reason"].help_text = "Clients can discontinue at any time."

    def clean(self):
        data = super().clean()
        to_phase = data.get("to_phase")
        reason = (data.get("reason") or "").strip()
        if to_phase == Phase.ON_HOLD and not reason:
            self.add_error("reason", "Give a reason for putting the course on hold.")
        if to_phase == Phase.DISCONTINUED:
            if not reason:
                self.add_error("reason", "Give a reason for discontinuing the course.")
            if not data.get("confirm"):
                self.add_error("confirm", "Tick the box to confirm the course ends.")
        return data
