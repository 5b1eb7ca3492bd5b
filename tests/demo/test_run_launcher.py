"""demo/run.py, `make run`'s launcher: the port check (before the setup), .env's SITE_URL kept on
the port, and Ctrl-C: SIGTERM to each process (not its pool), time to finish, exit 0."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from demo import run

ROOT = Path(__file__).resolve().parents[2]


def _listening(port: int = 0) -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


def _free_port() -> int:
    with _listening() as sock:
        return sock.getsockname()[1]


def test_check_says_what_to_do_when_the_port_is_taken():
    with _listening() as busy:
        port = busy.getsockname()[1]
        # -S: no site-packages, as the system Python that `make run` checks with before setup.
        result = subprocess.run(
            [sys.executable, "-S", "-m", "demo.run", "check", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"make run PORT={port + 1}" in result.stderr


def test_check_passes_on_a_free_port_and_refuses_a_bad_one(tmp_path):
    env_file = tmp_path / ".env"
    assert run.main(["check", "--port", str(_free_port()), "--env-file", str(env_file)]) == 0
    with pytest.raises(SystemExit) as refused:
        run.main(["check", "--port", "80x1"])
    assert refused.value.code == 2


def test_port_in_use():
    with _listening() as busy:
        assert run.port_in_use(busy.getsockname()[1])
    assert not run.port_in_use(_free_port())


def test_check_points_the_made_site_url_at_the_port(tmp_path, capsys):
    env_file = tmp_path / ".env"
    env_file.write_text('DEBUG=true\nSITE_URL=http://127.0.0.1:8000\nCLINIC_NAME="A B"\n')
    port = _free_port()
    assert run.check(port, env_file) == 0
    assert env_file.read_text() == (
        f'DEBUG=true\nSITE_URL=http://127.0.0.1:{port}\nCLINIC_NAME="A B"\n'
    )
    assert f"SITE_URL=http://127.0.0.1:{port}" in capsys.readouterr().out

    # One that a person set to another address is theirs.
    env_file.write_text("SITE_URL=https://clinic.example.org\n")
    assert run.sync_site_url(env_file, port) is None
    assert env_file.read_text() == "SITE_URL=https://clinic.example.org\n"
    assert run.sync_site_url(tmp_path / "missing.env", port) is None


SLOW_TO_STOP = """
    import signal, subprocess, sys, time

    # A child in the same process group, as Celery's pool processes are: it must not be signalled
    # by the launcher; its parent stops it.
    child = subprocess.Popen([sys.executable, "-c", {child!r}])

    def stop(signum, frame):
        print("slow: SIGTERM, stopping", flush=True)
        time.sleep({seconds})  # longer than honcho's own 5 s before SIGKILL
        child.send_signal(signal.SIGUSR1)
        child.wait()
        print("slow: stopped cleanly", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    print("slow: ready", flush=True)
    while True:
        time.sleep(0.1)
"""
CHILD = """
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *a: (print("child: SIGTERM", flush=True), sys.exit(1)))
signal.signal(signal.SIGUSR1, lambda *a: sys.exit(0))
while True:
    time.sleep(0.1)
"""
WEB = """
import os, time
print("web: port", os.environ["PORT"], flush=True)
time.sleep(60)
"""


def test_ctrl_c_stops_every_process_with_sigterm_and_time_to_finish(tmp_path):
    slow = tmp_path / "slow.py"
    slow.write_text(textwrap.dedent(SLOW_TO_STOP.format(child=CHILD, seconds=6)))
    web = tmp_path / "web.py"
    web.write_text(WEB)
    procfile = tmp_path / "Procfile"
    # web first, as in the real Procfile: honcho gives the first process type PORT itself.
    procfile.write_text(
        f"web: exec {sys.executable} -u {web}\nslow: exec {sys.executable} -u {slow}\n"
    )
    port = _free_port()
    launcher = subprocess.Popen(
        [sys.executable, "-m", "demo.run", "start", "--port", str(port), "--procfile", procfile],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    output = []
    for line in launcher.stdout:
        output.append(line)
        if "slow: ready" in "".join(output) and "web: port" in "".join(output):
            break
    started = time.monotonic()
    os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C does
    output.extend(launcher.stdout)
    assert launcher.wait(timeout=30) == 0
    printed = "".join(output)
    assert time.monotonic() - started >= 6
    assert f"web: port {port}" in printed
    assert "slow: stopped cleanly" in printed
    assert "SIGKILL" not in printed
    assert "child: SIGTERM" not in printed
    assert "make run: stopped." in printed
