"""Template helpers for intake pages and the intake partials other pages include."""

from django import template

from patients.intake.schema import step_title

register = template.Library()


@register.filter
def intake_step_title(slug: str) -> str:
    """The title of an intake step from its slug ("medical" -> "Medical history")."""
    return step_title(slug or "")
