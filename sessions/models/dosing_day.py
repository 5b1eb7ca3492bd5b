"""What the client confirms in the portal before a dosing session (R15): that they read the
clinic's dosing-day checklist, and who takes them home (name, phone, pickup time). The dosing
chart starts from it (sessions.dosing.services.chart_open) and the therapist's calendar and chart
show whether it was confirmed. One row a dosing session, changed by the client until it starts;
every change is audited (R22)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class DosingDayConfirmation(models.Model):
    session = models.OneToOneField(
        "clinic_sessions.Session", on_delete=models.PROTECT, related_name="dosing_day"
    )
    checklist_read_at = models.DateTimeField("checklist read", null=True, blank=True)
    # The checklist as the client read it: the clinic may change it later.
    checklist = models.TextField(blank=True, max_length=2000)
    chaperone_name = models.CharField("chaperone's name", max_length=150, blank=True)
    chaperone_phone = models.CharField("chaperone's phone", max_length=32, blank=True)
    pickup_at = models.DateTimeField("pickup time", null=True, blank=True)
    chaperone_confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # R15: a confirmed chaperone has a name, a phone and a pickup time.
            models.CheckConstraint(
                condition=Q(chaperone_confirmed_at__isnull=True)
                | (~Q(chaperone_name="") & ~Q(chaperone_phone="") & Q(pickup_at__isnull=False)),
                name="dosing_day_confirmed_chaperone_complete",
                violation_error_message="A confirmed chaperone has a name, a phone and a time.",
            ),
        ]

    def __str__(self) -> str:
        return f"Dosing-day confirmation of session #{self.session_id}"

    @property
    def chaperone_confirmed(self) -> bool:
        return self.chaperone_confirmed_at is not None

    def get_additional_data(self) -> dict:
        return {"session_id": self.session_id}
