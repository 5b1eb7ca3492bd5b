"""seed_demo's links (the printed sign-in address, the invitation and safety-alert e-mails) follow
SITE_URL, which `make run PORT=...` sets in .env."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from outbox.models import OutboxMessage


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("site_url", "expected"),
    [("http://127.0.0.1:8001", "http://127.0.0.1:8001"), ("", "http://127.0.0.1:8000")],
)
def test_seed_demo_links_follow_site_url(settings, capsys, site_url, expected):
    settings.DEBUG = True
    settings.SITE_URL = site_url
    call_command("seed_demo")

    assert f"Sign in at {expected}/" in capsys.readouterr().out
    invitation = OutboxMessage.objects.get(to="lena@demo.kapclinic.test")
    alert = OutboxMessage.objects.get(to="chen@demo.kapclinic.test", kind="safety_alert")
    for message in (invitation, alert):
        assert f"{expected}/" in message.text
    linking = OutboxMessage.objects.filter(text__contains="http://127.0.0.1:")
    assert all(f"{expected}/" in message.text for message in linking)
