"""The README's Quick start and what `manage.py seed_demo` makes: one demo, told in two places,
so the test fails when they drift apart (a client added to the seed and not to the table)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import Role, User
from demo import seed
from patients.models import Client

README = Path(__file__).resolve().parents[2] / "README.md"


def quick_start() -> str:
    text = README.read_text()
    start = text.index("\n## Quick start")
    return text[start : text.index("\n## ", start + 1)]


def demo_table() -> list[dict[str, str]]:
    """The rows of the demo accounts table (Role, Name, Sign-in, Demo state)."""
    lines = [line.strip() for line in quick_start().splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == ["Role", "Name", "Sign-in", "Demo state"]
    assert re.fullmatch(r"\|[-|]+\|", lines[1])
    rows = [[cell.strip().strip("`") for cell in line.strip("|").split("|")] for line in lines[2:]]
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.mark.django_db
def test_readme_demo_table_lists_every_account_the_seed_makes(settings):
    settings.DEBUG = True
    call_command("seed_demo")

    made = {
        (Role(person.role).label, person.get_full_name(), person.email)
        for person in User.objects.filter(email__endswith=f"@{seed.DEMO_DOMAIN}")
    }
    listed = {(row["Role"], row["Name"], row["Sign-in"]) for row in demo_table()}
    assert listed == made
    assert len(demo_table()) == len(made)  # and each once


def test_readme_demo_states_are_the_ones_seed_demo_prints():
    stages = {f"{spec.first} {spec.last}": spec.stage for spec in seed.CLIENTS if spec.portal}
    clients = [row for row in demo_table() if row["Role"] == "Client"]
    assert {row["Name"]: row["Demo state"] for row in clients} == stages
    assert all(not row["Demo state"] for row in demo_table() if row["Role"] != "Client")


@pytest.mark.django_db
def test_readme_names_the_clients_without_a_sign_in(settings):
    settings.DEBUG = True
    call_command("seed_demo")

    no_login = Client.objects.filter(email__endswith=f"@{seed.DEMO_DOMAIN}", user__isnull=True)
    assert no_login.count() == len([spec for spec in seed.CLIENTS if not spec.portal])
    for client in no_login:
        assert client.full_name in quick_start()
