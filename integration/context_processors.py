"""The navbar's "Reminders" badge (R8): how many integration alerts the signed-in staff member
has open (doses without an integration session booked)."""

from __future__ import annotations

from integration.selectors import open_alert_count


def reminders(request) -> dict:
    """One COUNT query, for staff who have passed two-factor only; nothing for anyone else."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_clinic_staff:
        return {}
    if not getattr(user, "is_verified", lambda: False)():
        return {}
    return {"reminder_alert_count": open_alert_count(user)}
