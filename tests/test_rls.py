"""Session context for row-level security: a real RLS policy sees the request's tenant."""

import asyncio
import urllib.parse

import pytest
from support.databases import login_role

import fraiseql
from fraiseql import db
from fraiseql.repository import Repository

ROLE = "fq_driver_rls_app"
SCHEMA = (
    login_role(ROLE)
    + f"""
CREATE TABLE docs (id int PRIMARY KEY, tenant_id int NOT NULL, data jsonb NOT NULL);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
ALTER TABLE docs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON docs
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::int)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::int);
GRANT SELECT, INSERT, UPDATE ON docs TO {ROLE};
INSERT INTO docs VALUES (1, 1, '{{"id": 1, "title": "t1-a"}}'), (2, 1, '{{"id": 2, "title": "t1-b"}}'),
                        (3, 2, '{{"id": 3, "title": "t2-a"}}');
"""
)


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def app_dsn(pg_server, pg_dsn):
    """A database with an RLS-protected table, and the DSN of a role the policy applies to
    (superusers bypass RLS); with FRAISEQL_TEST_DSN the DSN's own database is used."""
    owner_dsn = pg_dsn if pg_server is None else pg_server.create_database("rls_db")

    async def setup():
        conn = await db.connect(owner_dsn)
        await conn.execute("DROP TABLE IF EXISTS docs")
        await conn.execute(SCHEMA)
        await conn.close()

    run(setup())
    parts = urllib.parse.urlsplit(owner_dsn)
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{ROLE}@{parts.hostname}:{parts.port}"))


def pool_for(dsn, **kw):
    return fraiseql.create_pool(dsn, session_settings={"tenant_id": "app.tenant_id"}, **kw)


def titles(docs):
    return sorted(d["title"] for d in docs)


def test_reads_see_only_the_context_tenant(app_dsn):
    async def body():
        async with pool_for(app_dsn, max_size=1) as pool:
            assert titles(await Repository(pool, {"tenant_id": 1}).find("docs")) == ["t1-a", "t1-b"]
            assert titles(await Repository(pool, {"tenant_id": 2}).find("docs")) == ["t2-a"]
            assert await Repository(pool, {}).find("docs") == []  # no tenant: nothing
            assert await Repository(pool, {"tenant_id": 2}).find_one("docs", id=1) is None
            assert await Repository(pool, {"tenant_id": 1}).count("docs") == 2
            # transaction-local: nothing stays on the (single) connection afterwards
            assert await pool.fetchval("SELECT current_setting('app.tenant_id', true)") in (
                "",
                None,
            )

    run(body())


def test_pipelined_requests_of_different_tenants_do_not_mix(app_dsn):
    async def body():
        async with pool_for(app_dsn, max_size=2) as pool:
            tenants = [1 + i % 2 for i in range(60)]
            results = await asyncio.gather(
                *(Repository(pool, {"tenant_id": t}).count("docs") for t in tenants)
            )
            assert results == [2 if t == 1 else 1 for t in tenants]

    run(body())


def test_writes_are_checked_against_the_context_tenant(app_dsn):
    async def body():
        async with pool_for(app_dsn, max_size=2) as pool:
            tenant1 = pool.with_context({"tenant_id": 1})
            await tenant1.execute(
                "INSERT INTO docs VALUES ($1, $2, $3)", 10, 1, {"id": 10, "title": "t1-c"}
            )
            with pytest.raises(fraiseql.errors.InsufficientPrivilegeError) as info:
                await tenant1.execute(
                    "INSERT INTO docs VALUES ($1, $2, $3)", 11, 2, {"id": 11, "title": "bad"}
                )
            assert info.value.sqlstate == "42501" and "row-level security" in info.value.message
            async with pool.transaction(context={"tenant_id": 2}) as conn:
                await conn.execute(
                    "INSERT INTO docs VALUES ($1, $2, $3)", 12, 2, {"id": 12, "title": "t2-b"}
                )
                assert await conn.fetchval("SELECT count(*) FROM docs") == 2
            assert titles(await Repository(tenant1, {}).find("docs")) == ["t1-a", "t1-b", "t1-c"]
            assert titles(await Repository(pool, {"tenant_id": 2}).find("docs")) == ["t2-a", "t2-b"]

    run(body())


def test_context_of_one_call_inside_a_transaction_applies_to_that_call_only(app_dsn):
    async def body():
        async with pool_for(app_dsn, max_size=1) as pool:
            async with pool.acquire() as conn, conn.transaction():
                assert "t2-a" in titles(await Repository(conn, {"tenant_id": 2}).find("docs"))
                assert await conn.fetch("SELECT id FROM docs") == []  # tenant 2 did not stay
                assert await conn.fetchval("SELECT current_setting('app.tenant_id', true)") in (
                    "",
                    None,
                )
            async with pool.transaction(context={"tenant_id": 2}) as conn:
                tenant1 = await conn.fetch("SELECT tenant_id FROM docs", context={"tenant_id": 1})
                assert tenant1 and {r["tenant_id"] for r in tenant1} == {1}
                assert {r["tenant_id"] for r in await conn.fetch("SELECT tenant_id FROM docs")} == {
                    2
                }

    run(body())
