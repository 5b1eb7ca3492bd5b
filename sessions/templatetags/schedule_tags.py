"""The sessions line on the client record: the next session and links to the client's sessions.
One query."""

from __future__ import annotations

from django import template

from sessions.scheduling.selectors import next_session

register = template.Library()


@register.inclusion_tag("sessions/_client_sessions_bar.html")
def client_sessions_bar(client) -> dict:
    return {"client": client, "next_session": next_session(client=client)}
