"""Reads for the portal home that no other page needs."""

from __future__ import annotations

from django.db.models import F

from patients.models import Client, Intake


def intake_card(*, client: Client) -> Intake | None:
    """The intake the home page's intake card is about: the draft in progress (a client has at
    most one), else the latest submitted one, else None (not started). One query, where asking
    for the draft and then whether any intake exists took two."""
    return client.intakes.order_by(F("submitted_at").desc(nulls_first=True), "-id").first()
