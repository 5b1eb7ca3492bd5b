from django import template

from patients.validators import format_phone

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """A stored +15551234567 shown as (555) 123-4567 in the clinic's country."""
    return format_phone(value or "")
