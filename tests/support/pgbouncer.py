"""Runs Debian's real `pgbouncer` in front of a PostgreSQL server, for the tests.

Each instance has its own temporary directory (pgbouncer.ini, userlist, log), listens on a
free loopback port and trusts the users it is given; a watchdog stops it should the test
process die without stopping it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path

_INSTALL_HINT = "install it with `apt-get install pgbouncer` (`make test` does)"
# Runs detached; EOF on its stdin (the test process gone) stops the pgbouncer it names.
_WATCHDOG = 'cat >/dev/null; kill -TERM "$0" 2>/dev/null'
_START_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgBouncer:
    """PgBouncer in transaction pooling mode in front of the database of `server_dsn`.

    pools maps each database name clients connect to (an alias of that one database) to its
    pool_size: the server connections its clients share, per user; users are trusted.
    """

    def __init__(
        self,
        server_dsn: str,
        pools: Mapping[str, int],
        *,
        users: Iterable[str] = ("postgres",),
        ignore_startup_parameters: Iterable[str] = (),
    ) -> None:
        binary = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
        if binary is None:
            raise RuntimeError(f"pgbouncer not found; {_INSTALL_HINT}")
        self.binary = binary
        server = urllib.parse.urlsplit(server_dsn)
        self.server_host, self.server_port = server.hostname or "127.0.0.1", server.port or 5432
        self.server_dbname = server.path.lstrip("/") or "postgres"
        self.pools = dict(pools)
        self.users = list(users)
        self.ignore_startup_parameters = list(ignore_startup_parameters)
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="fraiseql-pgbouncer-"))
        self._proc: subprocess.Popen[bytes] | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        # PgBouncer refuses to run as root: then as the postgres system user, as PostgreSQL.
        self._run_as = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        self._write_config()

    def dsn(self, pool: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{pool}"

    @property
    def log(self) -> str:
        path = self.dir / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> PgBouncer:
        as_user = {}
        if self._run_as is not None:
            as_user = {
                "user": self._run_as.pw_uid,
                "group": self._run_as.pw_gid,
                "extra_groups": [],
            }
        # its log goes to stderr too: a file, since a pipe nobody reads would block it
        with open(self.dir / "stderr.log", "ab") as stderr:
            self._proc = subprocess.Popen(
                [self.binary, str(self.dir / "pgbouncer.ini")],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
                cwd=self.dir,
                **as_user,
            )
        self._watchdog = subprocess.Popen(
            ["/bin/sh", "-c", _WATCHDOG, str(self._proc.pid)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._accepts():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                err = (self.dir / "stderr.log").read_text(errors="replace")
                self.stop()
                raise RuntimeError(f"pgbouncer did not start on port {self.port}: {err}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Immediate shutdown (SIGTERM): client connections are closed at once."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.send_signal(signal.SIGTERM)
            self._proc.wait(30)
            self._proc = None
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait()
            self._watchdog = None

    def restart(self) -> None:
        """Stop, then start again on the same port (what an operator's restart does)."""
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PgBouncer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def _write_config(self) -> None:
        dbs = "\n".join(
            f"{alias} = host={self.server_host} port={self.server_port} "
            f"dbname={self.server_dbname} pool_size={size}"
            for alias, size in self.pools.items()
        )
        settings = {
            "listen_addr": "127.0.0.1",
            "listen_port": str(self.port),
            "unix_socket_dir": "",
            "auth_type": "trust",
            "auth_file": str(self.dir / "userlist.txt"),
            "pool_mode": "transaction",
            "max_client_conn": "200",
            "logfile": str(self.dir / "pgbouncer.log"),
            "pidfile": str(self.dir / "pgbouncer.pid"),
        }
        if self.ignore_startup_parameters:
            settings["ignore_startup_parameters"] = ",".join(self.ignore_startup_parameters)
        body = "\n".join(f"{key} = {value}" for key, value in settings.items())
        (self.dir / "pgbouncer.ini").write_text(f"[databases]\n{dbs}\n\n[pgbouncer]\n{body}\n")
        (self.dir / "userlist.txt").write_text("".join(f'"{u}" ""\n' for u in self.users))
        if self._run_as is not None:
            for path in (self.dir, *self.dir.iterdir()):
                os.chown(path, self._run_as.pw_uid, self._run_as.pw_gid)
