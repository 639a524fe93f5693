"""Migrations and the `fraiseql` command: generate, apply idempotently, change, drop, verify."""

from __future__ import annotations

import os
import subprocess
import sys

import asyncpg
import pytest
from support.cqrs import fresh_database, run

from fraiseql.cli import main

TABLES = """
CREATE TABLE tb_user (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE tb_post (id int PRIMARY KEY, user_id int NOT NULL REFERENCES tb_user ON DELETE CASCADE,
                      title text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO tb_user SELECT g, 'u' || g FROM generate_series(1, 5) g;
INSERT INTO tb_post SELECT g, 1 + g % 5, 't' || g, timestamptz '2024-01-01' + g * interval '1 hour'
FROM generate_series(1, 40) g;
"""

MODELS = """
from fraiseql.cqrs import Many, ReadModel
MODELS = [ReadModel("user", table="tb_user", fields=("id", "name"),
                    embed={{"posts": Many("tb_post", fields=("id", "title"),
                                          order_by="created_at DESC", limit={limit})}},
                    forms=("qm", "mv", "tv"))]
"""


@pytest.fixture(scope="module")
def dsn(pg_server, pg_dsn):
    return fresh_database(pg_server, pg_dsn, "cqrs_migrations")


def fetchval(dsn: str, sql: str, method: str = "fetchval"):
    async def go():
        conn = await asyncpg.connect(dsn)
        try:
            return await getattr(conn, method)(sql)
        finally:
            await conn.close()

    return run(go())


def cli(capsys, *argv: str) -> tuple[int, str]:
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out + out.err


def test_generate_apply_change_drop(dsn, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0001_tables.sql").write_text(TABLES)
    for version, limit in (("v1", 3), ("v2", 5)):
        (tmp_path / f"models_{version}.py").write_text(MODELS.format(limit=limit))
    (tmp_path / "models_v3.py").write_text("MODELS = []\n")

    status, out = cli(capsys, "migrate", "--dsn", dsn)
    assert (
        status == 0
        and "applied fraiseql/0001_catalog.sql" in out
        and "applied 0001_tables.sql" in out
    )

    status, out = cli(capsys, "makemigrations", "--dsn", dsn, "--models", "models_v1:MODELS")
    assert status == 0 and "0002_create_user.sql" in out
    text = (migrations / "0002_create_user.sql").read_text()
    assert (
        'CREATE TABLE "public"."qm_user"' in text
        and "LIMIT 3" in text
        and "-- fraiseql:state" in text
    )
    assert cli(capsys, "makemigrations", "--dsn", dsn, "--models", "models_v1:MODELS")[
        1
    ].startswith("no changes")

    status, out = cli(capsys, "migrate", "--dsn", dsn)
    assert status == 0 and out.strip() == "applied 0002_create_user.sql"
    assert cli(capsys, "migrate", "--dsn", dsn) == (0, "nothing to apply\n")
    assert fetchval(dsn, "SELECT jsonb_array_length(data->'posts') FROM qm_user WHERE id = 1") == 3
    assert cli(capsys, "verify", "--dsn", dsn, "qm_user") == (
        0,
        "public.qm_user: 5 documents, no drift\n",
    )

    # Drift is found and reported with the keys, exit status 1.
    fetchval(
        dsn,
        "ALTER TABLE tb_post DISABLE TRIGGER USER; UPDATE tb_post SET title = 'x' WHERE id = 40; "
        "ALTER TABLE tb_post ENABLE TRIGGER USER; DELETE FROM qm_user WHERE id = 2",
        "execute",
    )
    status, out = cli(capsys, "verify", "--dsn", dsn, "qm_user")
    assert (
        status == 1
        and "2 drifted of 5" in out
        and "missing (1): 2" in out
        and "changed (1): 1" in out
    )
    status, out = cli(capsys, "verify", "--dsn", dsn, "qm_user", "--repair")
    assert status == 0 and "repaired 2 documents" in out
    assert cli(capsys, "verify", "--dsn", dsn, "qm_user")[0] == 0
    status, out = cli(capsys, "verify", "--dsn", dsn, "mv_user", "--repair")
    assert status == 2 and "only qm_ documents are repaired" in out
    status, out = cli(capsys, "verify", "--dsn", dsn, "mv_user")
    assert status == 1 and "changed (1): 1" in out  # stale until refreshed
    status, out = cli(capsys, "refresh", "--dsn", dsn, "mv_user")
    assert status == 0 and out.startswith("refreshed mv_user in"), out
    assert cli(capsys, "verify", "--dsn", dsn, "mv_user")[0] == 0
    status, out = cli(capsys, "refresh", "--dsn", dsn, "qm_user")
    assert status == 2 and "kept in sync by triggers" in out
    status, out = cli(capsys, "refresh", "--dsn", dsn, "mv_user", "--cron", "*/5 * * * *")
    assert status == 2 and "pg_cron is not installed in this database" in out

    # A changed declaration: drop and recreate, with the new shape.
    status, out = cli(capsys, "makemigrations", "--dsn", dsn, "--models", "models_v2:MODELS")
    assert status == 0 and "0003_change_user.sql" in out
    assert cli(capsys, "migrate", "--dsn", dsn)[0] == 0
    assert fetchval(dsn, "SELECT jsonb_array_length(data->'posts') FROM qm_user WHERE id = 1") == 5
    assert cli(capsys, "verify", "--dsn", dsn, "qm_user")[0] == 0

    # A dropped declaration: everything fraiseql made goes, the tables stay.
    status, out = cli(capsys, "makemigrations", "--dsn", dsn, "--models", "models_v3:MODELS")
    assert status == 0 and "0004_drop_user.sql" in out
    assert cli(capsys, "migrate", "--dsn", dsn)[0] == 0
    assert fetchval(
        dsn,
        """SELECT to_regclass('qm_user') IS NULL AND to_regclass('mv_user') IS NULL
                            AND to_regclass('tv_user') IS NULL AND to_regprocedure('fq_user_doc(integer)') IS NULL
                            AND NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname LIKE 'fq\\_%')
                            AND (SELECT count(*) FROM fraiseql.read_model) = 0
                            AND (SELECT count(*) FROM tb_post) = 40""",
    )
    status, out = cli(capsys, "verify", "--dsn", dsn, "qm_user")
    assert status == 2 and "not a read model in fraiseql's catalog" in out

    # An applied migration edited afterwards is refused; a failing one is rolled back and not recorded.
    (migrations / "0001_tables.sql").write_text(TABLES + "-- edited\n")
    status, out = cli(capsys, "migrate", "--dsn", dsn)
    assert status == 2 and "0001_tables.sql was edited after it was applied" in out
    (migrations / "0001_tables.sql").write_text(TABLES)
    (migrations / "0005_broken.sql").write_text(
        "CREATE TABLE tb_half (id int);\nCREATE TABLE oops (;\n"
    )
    status, out = cli(capsys, "migrate", "--dsn", dsn)
    assert status == 2 and "0005_broken.sql failed and was rolled back" in out
    assert fetchval(
        dsn,
        "SELECT to_regclass('tb_half') IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM fraiseql.migration WHERE name = '0005_broken.sql')",
    )


def test_installed_command_uses_database_url_and_reports_missing_dsn(dsn):
    exe = os.path.join(os.path.dirname(sys.executable), "fraiseql")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run([exe, "verify", "qm_nothing"], capture_output=True, text=True, env=env)
    assert done.returncode == 2 and "pass --dsn postgresql://... or set DATABASE_URL" in done.stderr
    done = subprocess.run(
        [exe, "migrate"], capture_output=True, text=True, env={**env, "DATABASE_URL": dsn}, cwd="/"
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run([exe], capture_output=True, text=True, env=env)
    assert done.returncode == 2 and "makemigrations" in done.stderr
