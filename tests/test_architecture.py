"""The floors between the apps' packages (docs/adr/0006-floors-between-apps.md), enforced.

A module imports only from its own floor or below; a lower floor tells a higher one something
through a signal (sessions.signals). Imports under ``if TYPE_CHECKING:`` are annotations, not
dependencies, and are not counted. The test reads the source, so it needs no database."""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from django import forms

from kap_clinic.errors import DomainError
from kap_clinic.fields import ClinicalNumberField, ClinicDateField

ROOT = Path(__file__).resolve().parent.parent

# Bottom to top. A module belongs to the floor of the longest prefix that names it.
FLOORS: list[tuple[str, ...]] = [
    # Pure helpers (dates and times, the domain error base, form fields, long lists, the headers
    # of public token pages), the clinic settings.
    (
        "kap_clinic.formats",
        "kap_clinic.errors",
        "kap_clinic.fields",
        "kap_clinic.mail",
        "kap_clinic.listing",
        "kap_clinic.token_pages",
        "clinic",
    ),
    # The outbox: every e-mail is a row, sent by one dispatcher; it tells the apps above it of
    # outcomes by signal (outbox.signals) and asks them by registered check (outbox.kinds).
    ("outbox",),
    # Users, roles, two-factor sign-in, the role gates, automatic logoff (R22).
    ("accounts",),
    # Who viewed which client (R22); written by the access policy.
    ("audit",),
    # The client record: the client model and the access policy, intake, questionnaires,
    # referrals, prescriptions and prescribers.
    ("patients",),
    # The sessions schema (models) and the signals the sessions app sends.
    ("sessions.models", "sessions.signals"),
    # Treatment courses: phases and their preconditions (R1-R3, R5), which count the sessions
    # and doses in the schema below.
    ("patients.courses",),
    # Scheduling, calendar, notes and the dosing chart; they move a course (the first dose).
    ("sessions",),
    # The reminder plan; it hears sessions.signals.dose_recorded and hands e-mails to the outbox.
    ("integration",),
    # Pages that show a whole course or client: sessions, reminders, scores together.
    (
        "patients.courses.views",
        "patients.courses.urls",
        "patients.clients.views",
        "patients.urls",
        "patients.portal",
    ),
    # Pages and tools over many apps.
    ("staff", "reports"),
    ("demo",),
    # The URL conf, Celery app, settings and /healthz: imports everything, imported by nothing.
    ("kap_clinic",),
]
APPS = {prefix.split(".")[0] for floor in FLOORS for prefix in floor}
# Module cycles the design accepts, each with its reason.
# None since the safety alert's e-mail became an outbox row (it was a task queued by its service
# and calling it back).
ACCEPTED_CYCLES: dict[frozenset[str], str] = {}


def floor_of(module: str) -> int:
    best, level = "", -1
    for index, prefixes in enumerate(FLOORS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, level = prefix, index
    return level


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for branch in node.orelse for n in _imports_in(branch))
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST):
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield node.lineno, alias.name
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        for alias in node.names:
            yield node.lineno, f"{node.module}.{alias.name}"
    elif isinstance(node, ast.If) and _is_type_checking(node):
        return
    for child in ast.iter_child_nodes(node):
        yield from _imports_in(child)


@cache
def product_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _resolve(target: str) -> str | None:
    """The product module an import names (``from a.b import c`` may name module a.b.c or the
    attribute c of a.b)."""
    modules = product_modules()
    while target:
        if target in modules:
            return target
        target = target.rpartition(".")[0]
    return None


@cache
def import_graph() -> dict[str, dict[str, int]]:
    graph: dict[str, dict[str, int]] = {}
    for module, path in product_modules().items():
        edges = graph.setdefault(module, {})
        for lineno, target in _imports(ast.parse(path.read_text(), str(path))):
            resolved = _resolve(target)
            if resolved and resolved != module and not module.startswith(resolved + "."):
                edges.setdefault(resolved, lineno)
    return graph


def test_every_product_module_has_a_floor():
    assert len(product_modules()) > 100
    assert [m for m in product_modules() if floor_of(m) < 0] == []


def test_no_module_imports_a_floor_above_its_own():
    upward = [
        f"{module}:{lineno} imports {target} ({floor_of(module)} -> {floor_of(target)})"
        for module, edges in import_graph().items()
        for target, lineno in edges.items()
        if floor_of(target) > floor_of(module)
    ]
    assert upward == []


def _cycles(graph: dict[str, dict[str, int]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = _pop_component(stack, on_stack, node)
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _pop_component(stack: list[str], on_stack: set[str], root: str) -> frozenset[str]:
    """Pop Tarjan's stack down to ``root``: the members of the component ``root`` heads."""
    start = stack.index(root)
    component = frozenset(stack[start:])
    del stack[start:]
    on_stack.difference_update(component)
    return component


def test_no_import_cycles_but_the_accepted_ones():
    assert [sorted(c) for c in _cycles(import_graph()) if c not in ACCEPTED_CYCLES] == []


def test_the_checker_sees_an_upward_import():
    # Guards the test itself: an upward import must be reported, a TYPE_CHECKING one must not.
    tree = ast.parse(
        "from typing import TYPE_CHECKING\nfrom sessions.models import Session\n"
        "if TYPE_CHECKING:\n    from reports import views\n"
    )
    assert [target for _, target in _imports(tree)] == [
        "typing.TYPE_CHECKING",
        "sessions.models.Session",
    ]
    assert floor_of("sessions.models") > floor_of("patients.models")
    assert floor_of("sessions.dosing.services") > floor_of("patients.courses.services")
    assert floor_of("patients.courses.views") > floor_of("integration.selectors")
    assert _cycles({"a": {"b": 1}, "b": {"a": 1}, "c": {}}) == [frozenset({"a", "b"})]


# Errors of the delivery machinery (retried or failed by the dispatcher), not rules for a person.
TRANSPORT_ERRORS = {"TransientEmailError"}


def test_every_error_a_service_raises_for_a_person_is_a_domain_error():
    services = [m for m in product_modules() if m.rsplit(".", 1)[-1].endswith("services")]
    assert len(services) > 10
    errors = {
        f"{module}.{name}": cls
        for module in services
        for name, cls in inspect.getmembers(importlib.import_module(module), inspect.isclass)
        if name.endswith("Error") and cls.__module__ == module and name not in TRANSPORT_ERRORS
    }
    assert len(errors) >= 15
    assert sorted(name for name, cls in errors.items() if not issubclass(cls, DomainError)) == []


@pytest.mark.parametrize("module", ["outbox.tasks", "integration.tasks", "accounts.tasks"])
def test_a_worker_can_import_each_task_module_first(module):
    # Celery's autodiscovery imports the task modules before anything else has imported the
    # services they call: a circular top-level import would stop the worker from starting.
    code = f"import django; django.setup(); import {module}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kap_clinic.test_settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def _form_classes():
    for module in product_modules():
        if module.endswith(("forms", ".forms")) and "management" not in module:
            importlib.import_module(module)

    def walk(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    return [
        cls
        for cls in set(walk(forms.BaseForm))
        if cls.__module__.split(".")[0] in APPS and not cls.__module__.startswith("tests")
    ]


def test_every_whole_number_a_form_takes_is_a_clinical_number():
    # int() reads digits of any script ("١٢٠" is 120): a clinical number must be typed in 0-9.
    classes = _form_classes()
    assert len(classes) > 20
    plain = sorted(
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in classes
        for name, field in cls.base_fields.items()
        if isinstance(field, forms.IntegerField) and not isinstance(field, ClinicalNumberField)
    )
    assert plain == []


def test_every_date_a_form_takes_is_held_within_the_record_s_dates():
    # 9999-12-31 in a filter overflowed date arithmetic (a server error, a broken CSV export).
    plain = sorted(
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in _form_classes()
        for name, field in cls.base_fields.items()
        if isinstance(field, forms.DateField) and not isinstance(field, ClinicDateField)
    )
    assert plain == []
