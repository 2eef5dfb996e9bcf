"""Start a real Odoo server on 127.0.0.1 for end-to-end tests, and stop it.

    with OdooServer(dbname) as server:
        requests.get(server.url + "/integration/v1/health", timeout=5)
        server.kill()      # SIGKILL, as a crash
        server.start()     # and back

Each server gets a free port and its own log file; crons run in it unless
``max_cron_threads=0`` is passed.
"""

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from . import odoo_env


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    """One Odoo process serving one database on 127.0.0.1."""

    def __init__(
        self, dbname, max_cron_threads=1, workers=0, extra_args=(), config=None, extra_addons=()
    ):
        self.dbname = dbname
        self.extra_addons = list(extra_addons)
        self.port = free_port()
        self.max_cron_threads = max_cron_threads
        self.workers = workers
        self.extra_args = list(extra_args)
        self.config = config or {}
        self.process = None
        self.tmpdir = Path(tempfile.mkdtemp(prefix="hcsc-odoo-"))
        self.log_path = self.tmpdir / "odoo.log"
        self.config_path = self.tmpdir / "odoo.conf"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _write_config(self):
        lines = ["[options]"] + [f"{key} = {value}" for key, value in self.config.items()]
        self.config_path.write_text("\n".join(lines) + "\n")

    def start(self, timeout=120):
        self._write_config()
        command = odoo_env.odoo_command(
            f"--config={self.config_path}",
            f"--addons-path={odoo_env.addons_path(*self.extra_addons)}",
            f"--database={self.dbname}",
            f"--db-filter=^{self.dbname}$",
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            f"--max-cron-threads={self.max_cron_threads}",
            f"--workers={self.workers}",
            f"--logfile={self.log_path}",
            "--log-level=info",
            *odoo_env.db_options(),
            *self.extra_args,
        )
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"Odoo exited with {self.process.returncode}; log:\n{self.log_tail()}"
                )
            try:
                response = requests.get(self.url + "/web/health", timeout=2)
                if response.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"Odoo did not answer within {timeout}s; log:\n{self.log_tail()}")

    def kill(self):
        """SIGKILL the whole process group: a crash, no clean shutdown."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines=60):
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
