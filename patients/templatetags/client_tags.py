from django import template

from patients.clients.validators import format_phone
from patients.models import Phase

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """A stored +15551234567 shown as (555) 123-4567 in the clinic's country."""
    return format_phone(value or "")


@register.filter
def phase_label(value: str) -> str:
    """A course phase code as the clinic says it ("on_hold" → "On hold")."""

    return dict(Phase.choices).get(value, value)
