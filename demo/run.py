"""`make run`'s launcher: checks the port before the minute of setup, keeps the demo's SITE_URL on
that port, and runs the Procfile (web, worker, beat) under honcho so that Ctrl-C stops them all
cleanly.

    python3 -m demo.run check --port 8001   # before setup: the system Python, stdlib only
    python -m demo.run start --port 8001    # after setup: the venv's Python, which has honcho

Why not `honcho start` as it is: it reads `.env` with a shell-like lexer that drops unquoted spaces
(CLINIC_NAME=Riverside Therapy (demo) became "RiversideTherapy(demo)") and its values override the
environment; it sends SIGTERM to each process's whole group, so Celery's pool processes die under
the worker before its warm shutdown can stop them; and it sends SIGKILL 5 seconds later, before
the worker has finished (honcho has no option for that wait: nickstenning/honcho#189). Here
Django reads `.env` itself (kap_clinic/settings.py), SIGTERM goes to each process (the Procfile
`exec`s it, so that is the program, not a shell), and the processes get STOP_SECONDS."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import sys
from pathlib import Path

try:
    from honcho import manager as honcho_manager
    from honcho.environ import expand_processes, parse_procfile
    from honcho.printer import Printer
except ImportError:  # `check` runs on the system Python, before setup has made the venv
    honcho_manager = None

HOST = "127.0.0.1"
# Celery's warm shutdown on the filesystem broker takes about 6 s with nothing running; a task
# under way is given the rest of this before SIGKILL (acks_late: a killed task runs again).
STOP_SECONDS = 20
# The SITE_URL that `make` writes to .env; one a person changed (another host) is left alone.
MADE_SITE_URL = re.compile(r"^SITE_URL=http://(127\.0\.0\.1|localhost):\d+/?$", re.MULTILINE)


def parse_port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"PORT must be a number from 1 to 65535, not {text!r}")
    return int(text)


def port_in_use(port: int, host: str = HOST) -> bool:
    """Whether runserver would fail to listen on the port. It binds with SO_REUSEADDR, as here,
    so a port only held by connections closing (TIME_WAIT) counts as free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def busy_message(port: int) -> str:
    return (
        f"Port {port} on {HOST} is already in use (another `make run`, or another program).\n"
        f"  Stop it (see what holds it: ss -ltnp 'sport = :{port}'), or use another port:\n"
        f"    make run PORT={port + 1}"
    )


def site_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def sync_site_url(env_file: Path, port: int) -> str | None:
    """Point the .env that `make` wrote at the port in use, so that links in e-mails (worker,
    seed_demo, commands typed in another terminal) follow it. Returns the new value if it
    changed."""
    if not env_file.exists():
        return None  # `make` writes it during setup, with this port
    text = env_file.read_text()
    wanted = f"SITE_URL={site_url(port)}"
    match = MADE_SITE_URL.search(text)
    if match is None or match.group(0) == wanted:
        return None
    env_file.write_text(text[: match.start()] + wanted + text[match.end() :])
    return site_url(port)


def check(port: int, env_file: Path) -> int:
    if port_in_use(port):
        print(busy_message(port), file=sys.stderr)
        return 1
    changed = sync_site_url(env_file, port)
    if changed:
        print(f"{env_file.name}: SITE_URL={changed} (links in e-mails follow the port)")
    return 0


def start(port: int, procfile: Path) -> int:
    """Run the Procfile's processes until one stops or Ctrl-C; 0 when stopped by Ctrl-C."""
    if port_in_use(port):  # taken during the setup
        print(busy_message(port), file=sys.stderr)
        return 1
    honcho_manager.KILL_WAIT = STOP_SECONDS
    manager = honcho_manager.Manager(Printer(sys.stdout))
    manager._procmgr = _SignalTheProcess()  # honcho's own signals each process group
    processes = parse_procfile(procfile.read_text()).processes
    # PORT: the web process's (honcho gives the next types PORT+100, +200, unused here).
    for process in expand_processes(processes, port=port):
        manager.add_process(process.name, process.cmd, env={**os.environ, **process.env})
    manager.loop()
    if manager.returncode == 128 + signal.SIGINT:
        print("make run: stopped.")
        return 0
    return manager.returncode


class _SignalTheProcess:
    """honcho's process manager, with SIGTERM sent to the process alone: the worker stops its
    pool itself (warm shutdown). SIGKILL, after STOP_SECONDS, still goes to the whole group."""

    def terminate(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)

    def kill(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.run", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["check", "start"])
    parser.add_argument("--port", type=parse_port, default=8000)
    parser.add_argument("--env-file", type=Path, default=Path(".env"))
    parser.add_argument("--procfile", type=Path, default=Path("Procfile"))
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args.port, args.env_file)
    return start(args.port, args.procfile)


if __name__ == "__main__":
    sys.exit(main())
