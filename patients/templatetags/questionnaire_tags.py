"""Template helpers for questionnaire scores (R19)."""

from __future__ import annotations

from django import template

from patients.questionnaires import scoring

register = template.Library()


@register.filter
def band_level(response) -> int:
    """0 (lowest) to 4 (highest) for a stored response, for the badge colour (band-0 … band-4).
    The badge always shows the band's words too: colour is never the only signal."""
    return scoring.band_level(response.instrument, response.band)


@register.filter
def instrument_name(key: str) -> str:
    """ "phq9" → "PHQ-9"."""
    spec = scoring.DEFINITIONS.get(key)
    return spec.name if spec else key


@register.filter
def question_count(key: str) -> int:
    spec = scoring.DEFINITIONS.get(key)
    return len(spec.items) if spec else 0
