"""`make run` (Makefile, Procfile): another port, the port checked before the setup, the .env it
writes. No database: make runs dry (-n) or on a scratch folder. The launcher: test_run_launcher."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import environ
import pytest
from honcho.environ import parse as honcho_parse

ROOT = Path(__file__).resolve().parents[2]


def _make(*args: str, cwd: Path = ROOT) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PORT", "SITE_URL", "MAKEFLAGS"}}
    result = subprocess.run(
        ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()


@pytest.mark.parametrize("port", ["8001", None])
def test_make_run_checks_the_port_first_and_starts_on_it(port):
    lines = _make("-n", "run", *([f"PORT={port}"] if port else []))
    port = port or "8000"
    check = next(i for i, line in enumerate(lines) if "-m demo.run check" in line)
    assert lines[check].endswith(f"--port {port}")
    # Before the setup: the venv, the packages, the migrations and the seed come after it.
    setup = [i for i, line in enumerate(lines) if "pip install" in line or "manage.py" in line]
    assert check < min(setup, default=len(lines))
    assert lines[-1].endswith(f"-m demo.run start --port {port}")
    assert "honcho start" not in "\n".join(lines)  # .env through honcho's lexer: see demo/run.py


def test_procfile_serves_on_the_port_and_execs_each_program():
    lines = [
        line for line in (ROOT / "Procfile").read_text().splitlines() if not line.startswith("#")
    ]
    commands = dict(line.split(": ", 1) for line in lines if line)
    assert set(commands) == {"web", "worker", "beat"}
    assert commands["web"] == "exec python manage.py runserver 127.0.0.1:$PORT"
    # The stop signal goes to the process honcho started: the program, not a shell around it.
    assert all(command.startswith("exec ") for command in commands.values())


def test_the_env_make_writes_keeps_spaces_and_the_port(tmp_path, monkeypatch):
    _make(".env", "PORT=8001", cwd=tmp_path)
    text = (tmp_path / ".env").read_text()

    django_environ: dict[str, str] = {}
    monkeypatch.setattr(environ.Env, "ENVIRON", django_environ)
    environ.Env.read_env(tmp_path / ".env")
    for read in (django_environ, honcho_parse(text)):
        assert read["CLINIC_NAME"] == "Riverside Therapy (demo)"
        assert read["SITE_URL"] == "http://127.0.0.1:8001"
        assert read["DEBUG"] == "true"
