"""Reads about intakes for other pages (client record hub, portal home). Fixed query counts."""

from __future__ import annotations

from patients.models import Client, ClientFlag, Intake


def intake_summary(*, client: Client) -> dict:
    """For the client record: the client's current intake (the draft in progress, or the latest
    submitted one) and the R18 flags currently raised."""
    intake = client.intakes.select_related("reviewed_by").order_by("-created_at", "-id").first()
    flags = list(ClientFlag.objects.filter(client=client, is_current=True).order_by("code"))
    return {"intake": intake, "flags": flags}


def portal_intake_task(*, client: Client) -> Intake | None:
    """The intake the client still has to finish, if any."""
    return client.intakes.filter(status=Intake.Status.DRAFT).first()
