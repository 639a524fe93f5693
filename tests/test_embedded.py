"""The embedded PostgreSQL: starts, serves, and leaves nothing behind."""

import asyncio
import os
import signal
import subprocess
import sys
import time

import asyncpg
import pytest

from fraiseql.embedded import EmbeddedPostgres, EmbeddedPostgresError, find_bindir


def _query(dsn: str, sql: str):
    async def run():
        conn = await asyncpg.connect(dsn)
        try:
            return await conn.fetchval(sql)
        finally:
            await conn.close()

    return asyncio.run(run())


def test_cluster_serves_queries_and_is_removed_on_stop():
    pg = EmbeddedPostgres().start()
    root = pg.root_dir
    assert root is not None and root.exists()
    assert _query(pg.dsn, "select current_setting('server_encoding')") == "UTF8"
    assert _query(pg.create_database("app_db"), "select current_database()") == "app_db"
    pg.stop()
    assert not root.exists()
    pg.stop()  # a second stop is harmless


def test_create_database_rejects_names_that_are_not_identifiers():
    with EmbeddedPostgres() as pg:
        with pytest.raises(ValueError, match="plain ASCII identifier"):
            pg.create_database("x; drop database postgres")


def test_cluster_is_removed_when_owner_is_killed(tmp_path):
    script = (
        "import sys, time\n"
        "from fraiseql.embedded import EmbeddedPostgres\n"
        "pg = EmbeddedPostgres().start()\n"
        "print(pg.root_dir, pg.port, flush=True)\n"
        "time.sleep(120)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    root, port = owner.stdout.readline().split()
    assert os.path.isdir(root)
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + 30
    while os.path.exists(root) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not os.path.exists(root), "watchdog did not remove the cluster of a killed owner"


def test_wrong_bindir_error_names_the_variable_and_the_package(monkeypatch, tmp_path):
    monkeypatch.setenv("FRAISEQL_PG_BINDIR", str(tmp_path))
    with pytest.raises(
        EmbeddedPostgresError, match=r"FRAISEQL_PG_BINDIR.*apt-get install postgresql"
    ):
        find_bindir()


def test_bindir_found_on_this_machine():
    assert (find_bindir() / "initdb").is_file()
