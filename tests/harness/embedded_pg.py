"""A private PostgreSQL for ``make run`` / ``make test`` when no server is reachable.

The binaries come from the ``pgserver`` wheel (PostgreSQL 16.2, built without
system libraries beyond libc and zlib), pinned in ``requirements-lock.txt`` and
installed with ``pip --target`` under ``.local/postgresql/`` so the interpreter's
own environment is left alone. The cluster lives in ``.local/postgresql/data``,
listens on 127.0.0.1 on a free port and on a socket in ``.local/postgresql/run``;
``.local/postgresql/server.json`` tells later commands where it is. Its
superuser is ``odoo`` (Odoo refuses to connect as ``postgres``), trust
authentication, local connections only. As root, the server runs as ``nobody``
because PostgreSQL refuses to run as root.

Standard library only: ``make stop`` must work before Odoo is installed.

    python -m tests.harness.embedded_pg start|stop|status
"""

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .bootstrap import lock_section

REPO = Path(__file__).resolve().parents[2]
LOCAL = REPO / ".local"
HOME = LOCAL / "postgresql"
PACKAGE = "pgserver"
SUPERUSER = "odoo"
# Unix socket paths are limited to 107 bytes; past that the socket goes to /tmp.
SOCKET_PATH_LIMIT = 90


class EmbeddedPostgresError(SystemExit):
    """The embedded server could not be installed or started: one sentence why."""

    def __init__(self, sentence):
        super().__init__(f"error: {sentence}")


def _run_as():
    """The (uid, gid) PostgreSQL runs as: ourselves, or ``nobody`` when we are root."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def _subprocess_user_kwargs():
    owner = _run_as()
    if owner is None:
        return {}
    return {"user": owner[0], "group": owner[1], "extra_groups": []}


def _chown(path):
    owner = _run_as()
    if owner is not None:
        os.chown(path, *owner)


def bin_dir():
    """The folder holding initdb/pg_ctl/postgres, or None when not installed yet."""
    candidate = HOME / "dist" / "pgserver" / "pginstall" / "bin"
    return candidate if (candidate / "pg_ctl").exists() else None


def install(python=None, wheelhouse=None):
    """Install the pinned ``pgserver`` wheel under ``.local/postgresql/dist``."""
    if bin_dir():
        return bin_dir()
    python = python or sys.executable
    target = HOME / "dist"
    command = [
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--only-binary=:all:",
        f"--target={target}",
        f"--constraint={lock_section('runtime')}",
    ]
    wheelhouse = wheelhouse or os.environ.get("HCSC_WHEELHOUSE") or str(LOCAL / "wheelhouse")
    if Path(wheelhouse).is_dir():
        command.append(f"--find-links={wheelhouse}")
    command.append(PACKAGE)
    print(
        f"Installing PostgreSQL binaries ({PACKAGE}, pinned in requirements-lock.txt) into {target}"
    )
    print("+ " + " ".join(command), flush=True)
    if subprocess.run(command, check=False).returncode != 0:
        raise EmbeddedPostgresError(
            f"could not install the {PACKAGE} wheel; start a PostgreSQL server yourself and "
            "set PGHOST/PGPORT/PGUSER/PGPASSWORD to reach it."
        )
    return bin_dir()


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _state_path():
    return HOME / "server.json"


def read_state():
    """Where the embedded server was started last (dict), or None."""
    try:
        return json.loads(_state_path().read_text())
    except (OSError, ValueError):
        return None


def _pg_ctl(*args, check=True, timeout=120):
    command = [str(bin_dir() / "pg_ctl"), "-D", str(HOME / "data"), *args]
    return subprocess.run(
        command,
        check=check,
        timeout=timeout,
        cwd=HOME,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        **_subprocess_user_kwargs(),
    )


def is_running():
    """Whether the cluster in ``.local/postgresql/data`` has a live postmaster."""
    if not bin_dir() or not (HOME / "data" / "PG_VERSION").exists():
        return False
    return _pg_ctl("status", check=False).returncode == 0


def _socket_dir():
    preferred = HOME / "run"
    if len(str(preferred)) <= SOCKET_PATH_LIMIT:
        preferred.mkdir(parents=True, exist_ok=True)
        return preferred
    return Path(tempfile.mkdtemp(prefix="hcsc-pg-"))


def _init_cluster():
    data = HOME / "data"
    data.mkdir(parents=True, exist_ok=True)
    data.chmod(0o700)
    _chown(data)
    print(f"Creating a PostgreSQL cluster in {data} ...", flush=True)
    subprocess.run(
        [
            str(bin_dir() / "initdb"),
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ],
        check=True,
        cwd=HOME,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        **_subprocess_user_kwargs(),
    )


def environment(state):
    """The PG* variables that reach the embedded server."""
    return {"PGHOST": "127.0.0.1", "PGPORT": str(state["port"]), "PGUSER": SUPERUSER}


def start(python=None):
    """Start the embedded server (install and initialise it first if needed).

    Returns its state dict (port, socket_dir, data, log, started_here). A server
    left running by an earlier command is reused.
    """
    state = read_state()
    if state and is_running():
        state["started_here"] = False
        return state
    install(python)
    HOME.mkdir(parents=True, exist_ok=True)
    # nobody must be able to reach the binaries and the folders below .local
    for folder in (LOCAL, HOME):
        folder.chmod(folder.stat().st_mode | 0o055)
    if not (HOME / "data" / "PG_VERSION").exists():
        _init_cluster()
    socket_dir = _socket_dir()
    _chown(socket_dir)
    log = HOME / "postgresql.log"
    log.touch()
    _chown(log)
    port = _free_port()
    options = f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
    result = _pg_ctl("-l", str(log), "-o", options, "-w", "-t", "60", "start", check=False)
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise EmbeddedPostgresError(
            f"the embedded PostgreSQL did not start ({result.stderr.strip()}); log {log}:\n{tail}"
        )
    state = {
        "port": port,
        "socket_dir": str(socket_dir),
        "data": str(HOME / "data"),
        "log": str(log),
        "bin": str(bin_dir()),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    _state_path().write_text(json.dumps(state, indent=2) + "\n")
    state["started_here"] = True
    return state


def stop():
    """Stop the embedded server if it runs; return whether one was stopped."""
    if not is_running():
        return False
    _pg_ctl("-m", "fast", "-w", "stop", check=False)
    state = read_state() or {}
    socket_dir = state.get("socket_dir")
    if socket_dir and socket_dir.startswith(tempfile.gettempdir()):
        shutil.rmtree(socket_dir, ignore_errors=True)
    return True


def describe(state):
    """One paragraph telling the user where the server is and how to stop it."""
    version = (HOME / "data" / "PG_VERSION").read_text().strip()
    return (
        f"Embedded PostgreSQL {version} on 127.0.0.1:{state['port']} (user {SUPERUSER}, "
        f"socket in {state['socket_dir']}); data in {state['data']}, log {state['log']}. "
        "Stop it with `make stop`."
    )


def main(argv=None):
    """``start`` prints the PG* variables to export, ``stop`` stops, ``status`` tells."""
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "status"
    if command == "start":
        state = start()
        print(describe(state), file=sys.stderr)
        for key, value in environment(state).items():
            print(f"export {key}={value}")
    elif command == "stop":
        print("Embedded PostgreSQL stopped." if stop() else "No embedded PostgreSQL running.")
    elif command == "status":
        state = read_state()
        if state and is_running():
            print(describe(state))
        else:
            print("No embedded PostgreSQL running.")
            return 3
    else:
        raise SystemExit(
            f"usage: python -m tests.harness.embedded_pg start|stop|status ({command}?)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
