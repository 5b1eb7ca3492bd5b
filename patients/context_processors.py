"""The staff safety-alert banner (R20): how many open alerts the signed-in staff member has."""

from __future__ import annotations

from patients.questionnaires.selectors import open_alert_count


def alerts(request) -> dict:
    """One COUNT query, for staff who have passed two-factor only; nothing for anyone else."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_clinic_staff:
        return {}
    if not getattr(user, "is_verified", lambda: False)():
        return {}
    return {"open_alert_count": open_alert_count(user=user)}
