"""A throwaway PostgreSQL cluster for the demo, the tests and the benchmarks.

The cluster lives in a fresh temporary directory, listens on a free loopback port and on a
Unix socket in that directory, and is removed on `stop()`, at interpreter exit, and, through
a small watchdog process, even when the owning process is killed outright.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["EmbeddedPostgres", "EmbeddedPostgresError", "find_bindir"]

# Settings for a disposable cluster: durability is traded for speed, nothing here must survive.
DEFAULT_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "128MB",
    "log_min_messages": "warning",
}

# Runs detached; its stdin is a pipe the owner holds, so EOF means the owner is gone.
# Plain sh: the interpreter running us may sit where the postgres user cannot read.
_WATCHDOG = 'cat >/dev/null; "$0" -D "$1" -m immediate -w stop >/dev/null 2>&1; rm -rf "$2"'


class EmbeddedPostgresError(RuntimeError):
    """The embedded cluster could not be found, created, started or stopped."""


def find_bindir() -> Path:
    """Directory holding initdb, pg_ctl and postgres, or an error naming the package to install.

    FRAISEQL_PG_BINDIR, when set, is the only place looked at.
    """
    install_hint = "install them with `apt-get install postgresql` (Debian/Ubuntu)"
    explicit = os.environ.get("FRAISEQL_PG_BINDIR")
    if explicit:
        if _has_server_binaries(Path(explicit)):
            return Path(explicit)
        raise EmbeddedPostgresError(
            f"FRAISEQL_PG_BINDIR={explicit!r} does not hold {', '.join(_SERVER_BINARIES)}; "
            f"{install_hint} or fix the variable"
        )
    candidates: list[Path] = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    candidates.extend(
        sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_major_version, reverse=True)
    )
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for directory in candidates:
        if _has_server_binaries(directory):
            return directory
    raise EmbeddedPostgresError(
        f"no PostgreSQL server binaries ({', '.join(_SERVER_BINARIES)}) found; {install_hint}, "
        "or set FRAISEQL_PG_BINDIR to their directory, or give fraiseql the DSN of a server"
    )


_SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")


def _has_server_binaries(directory: Path) -> bool:
    return all((directory / name).is_file() for name in _SERVER_BINARIES)


def _major_version(bindir: Path) -> int:
    try:
        return int(bindir.parent.name)
    except ValueError:
        return -1


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedPostgres:
    """A PostgreSQL cluster created for this process and destroyed with it.

    >>> with EmbeddedPostgres() as pg:
    ...     print(pg.dsn)   # postgresql://postgres@127.0.0.1:PORT/postgres
    """

    def __init__(
        self,
        *,
        settings: dict[str, str] | None = None,
        port: int | None = None,
        hba: list[str] | None = None,
    ) -> None:
        """settings: postgresql.conf values (quoted as SQL literals where needed); hba:
        pg_hba.conf lines put ahead of the default trust rules (e.g. password auth for a role)."""
        self.settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self.port = port
        self.hba = list(hba or [])
        self.root_dir: Path | None = None
        self._bindir: Path | None = None
        self._run_as: pwd.struct_passwd | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None

    # -- public ------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self._root / "data"

    @property
    def socket_dir(self) -> Path:
        return self._root

    @property
    def dsn(self) -> str:
        """Loopback TCP DSN of the superuser `postgres` on database `postgres`."""
        return self.dsn_for("postgres")

    def dsn_for(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> EmbeddedPostgres:
        if self.root_dir is not None:
            raise EmbeddedPostgresError("embedded PostgreSQL already started")
        self._bindir = find_bindir()
        self._run_as = self._system_user()
        self.root_dir = Path(tempfile.mkdtemp(prefix="fraiseql-pg-"))
        atexit.register(self.stop)
        try:
            if self._run_as is not None:
                os.chown(self.root_dir, self._run_as.pw_uid, self._run_as.pw_gid)
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            )
            if self.hba:
                hba_file = self.data_dir / "pg_hba.conf"
                hba_file.write_text("\n".join(self.hba) + "\n" + hba_file.read_text())
            self._start_server()
            self._start_watchdog()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server and delete its directory; safe to call more than once."""
        if self.root_dir is None:
            return
        root, self.root_dir = self.root_dir, None
        atexit.unregister(self.stop)
        if (root / "data" / "postmaster.pid").exists():
            subprocess.run(
                self._argv("pg_ctl", "-D", str(root / "data"), "-m", "fast", "-w", "stop"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                **self._as_user(),
            )
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait()
            self._watchdog = None
        shutil.rmtree(root, ignore_errors=True)

    def restart(self) -> None:
        """Restart the server (fast shutdown: open sessions are terminated), same port."""
        result = subprocess.run(
            self._argv(
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-l",
                str(self._root / "server.log"),
                "-m",
                "fast",
                "-w",
                "-t",
                "60",
                "restart",
            ),
            capture_output=True,
            text=True,
            cwd="/",
            **self._as_user(),
        )
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"pg_ctl restart failed: {result.stderr.strip()}")

    def create_database(self, name: str) -> str:
        """Create database `name` (a plain identifier) and return its DSN."""
        if not name.isidentifier() or not name.isascii():
            raise ValueError(f"database name must be a plain ASCII identifier, got {name!r}")
        self._run(
            "createdb", "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres", name
        )
        return self.dsn_for(name)

    def __enter__(self) -> EmbeddedPostgres:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- internals ---------------------------------------------------------------------

    @property
    def _root(self) -> Path:
        if self.root_dir is None:
            raise EmbeddedPostgresError("embedded PostgreSQL is not running")
        return self.root_dir

    @staticmethod
    def _system_user() -> pwd.struct_passwd | None:
        """PostgreSQL refuses to run as root: then run it as the `postgres` system user."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam("postgres")
        except KeyError:
            raise EmbeddedPostgresError(
                "running as root, and PostgreSQL refuses root: create a `postgres` system user "
                "(`apt-get install postgresql` does) or run as an ordinary user"
            ) from None

    def _as_user(self) -> dict:
        if self._run_as is None:
            return {}
        return {"user": self._run_as.pw_uid, "group": self._run_as.pw_gid, "extra_groups": []}

    def _argv(self, program: str, *args: str) -> list[str]:
        assert self._bindir is not None
        path = self._bindir / program
        if not path.is_file():  # client tools may live apart from the server binaries
            found = shutil.which(program)
            if found is None:
                raise EmbeddedPostgresError(f"PostgreSQL program {program!r} not found")
            path = Path(found)
        return [str(path), *args]

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            self._argv(program, *args), capture_output=True, text=True, cwd="/", **self._as_user()
        )
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"{program} failed (exit {result.returncode}): {(result.stderr or result.stdout).strip()}"
            )

    def _start_server(self) -> None:
        fixed_port = self.port is not None
        log = self._root / "server.log"
        for _attempt in range(5):
            if not fixed_port:
                self.port = _free_port()
            settings = {
                **self.settings,
                "port": str(self.port),
                "unix_socket_directories": f"'{self._root}'",
            }
            with open(self.data_dir / "postgresql.auto.conf", "w") as conf:
                conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
            result = subprocess.run(
                self._argv(
                    "pg_ctl", "-D", str(self.data_dir), "-l", str(log), "-w", "-t", "60", "start"
                ),
                capture_output=True,
                text=True,
                cwd="/",
                **self._as_user(),
            )
            if result.returncode == 0:
                return
            log_text = log.read_text(errors="replace") if log.exists() else ""
            if fixed_port or "could not bind" not in log_text:
                raise EmbeddedPostgresError(
                    f"PostgreSQL did not start on port {self.port}: {result.stderr.strip()}\n{log_text[-2000:]}"
                )
        raise EmbeddedPostgresError("PostgreSQL did not start: no free port after 5 attempts")

    def _start_watchdog(self) -> None:
        self._watchdog = subprocess.Popen(
            [
                "/bin/sh",
                "-c",
                _WATCHDOG,
                self._argv("pg_ctl")[0],
                str(self.data_dir),
                str(self._root),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            cwd="/",
            **self._as_user(),
        )


def main() -> None:
    """`python -m fraiseql.embedded`: start a cluster, print its DSN, run until interrupted."""
    import signal

    with EmbeddedPostgres() as pg:
        print(pg.dsn, flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
