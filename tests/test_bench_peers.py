"""The peers of `make bench-peers` (benchmarks/peers/): the Strawberry peer's filters, order
and keyset connection against the SQL answers of a real PostgreSQL, served by a real uvicorn;
the runner's same-answer check on real servers; the RESULTS.md section replaced in place."""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from fraiseql.db import connect
from fraiseql.demo import setup

PEERS = Path(__file__).resolve().parents[1] / "benchmarks" / "peers"
sys.path[:0] = [str(PEERS), str(PEERS.parent)]

import dataset  # noqa: E402
import queries  # noqa: E402
import report  # noqa: E402
import run  # noqa: E402
import servers  # noqa: E402

USERS = 300
STRAWBERRY = next(s for s in servers.SERVERS if s.name == "Strawberry")


async def _sql(dsn: str, sql: str, *args: Any) -> list[Any]:
    conn = await connect(dsn)
    try:
        return [tuple(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


def sql(dsn: str, query: str, *args: Any) -> list[Any]:
    return asyncio.run(_sql(dsn, query, *args))


@pytest.fixture(scope="module")
def dsns(pg_server: Any, pg_dsn: str) -> tuple[str, str]:
    """Two databases of the blog at USERS users; in the second, user 7's email differs."""
    out = []
    for name in ("peers_same", "peers_other"):
        if pg_server is not None:
            dsn = pg_server.create_database(name)
        else:  # FRAISEQL_TEST_DSN's server
            asyncio.run(dataset.create_database(pg_dsn, name))
            dsn = dataset.database_dsn(pg_dsn, name)
        asyncio.run(setup(dsn, users=USERS, posts=USERS))
        asyncio.run(dataset.install_summary(dsn))
        out.append(dsn)
    sql(out[1], "UPDATE tb_user SET email = 'changed@example.org' WHERE id = 7 RETURNING id")
    return out[0], out[1]


@pytest.fixture(scope="module")
def peers(dsns: tuple[str, str], tmp_path_factory: Any) -> Iterator[list[run.Running]]:
    """Strawberry peers serving: two on the first database, one on the second."""
    pytest.importorskip("strawberry", reason="the bench extra's Strawberry (`make test` has it)")
    logs = tmp_path_factory.mktemp("peers")
    with ExitStack() as stack:
        out = []
        for i, dsn in enumerate((dsns[0], dsns[1], dsns[0])):
            port = run.free_port()
            proc = stack.enter_context(servers.serving(STRAWBERRY, port, dsn, logs / f"{i}.log"))
            run.wait_listening(proc, port, STRAWBERRY.name)
            r = run.Running(STRAWBERRY, f"http://127.0.0.1:{port}/graphql", proc.pid, logs)
            stack.callback(r.client.close)
            out.append(r)
        yield out


def ask(peer: run.Running, query: str, variables: dict[str, Any] | None = None) -> Any:
    return peer.ask({"query": query, "variables": variables or {}})


def users(peer: run.Running, arguments: str, fields: str = "id") -> list[Any]:
    answer = ask(peer, f"{{ users{arguments} {{ {fields} }} }}")
    assert "errors" not in answer, answer
    return [tuple(u.values()) for u in answer["data"]["users"]]


def test_where_email_eq_and_endswith_against_sql(peers: list[run.Running], dsns: Any) -> None:
    peer = peers[0]
    assert users(peer, '(where: {email: {eq: "user42@example.com"}})', "id email") == [
        (42, "user42@example.com")
    ]
    assert users(peer, '(where: {email: {endswith: "7@example.com"}})') == sql(
        dsns[0], "SELECT id FROM tb_user WHERE email LIKE '%7@example.com' ORDER BY id"
    )
    # the value is matched literally: `_` and `%` are no wildcards
    assert users(peer, '(where: {email: {endswith: "_7@example.com"}})') == []
    assert users(peer, '(where: {email: {contains: "%"}})') == []


def test_range_order_limit_offset_against_sql(peers: list[run.Running], dsns: Any) -> None:
    got = users(
        peers[0],
        '(where: {createdAt: {gte: "2024-01-01T00:10:00Z", lt: "2024-01-01T01:00:00Z"}}, '
        "orderBy: [{createdAt: DESC}], limit: 20, offset: 5)",
    )
    assert got == sql(
        dsns[0],
        "SELECT id FROM tb_user WHERE created_at >= '2024-01-01T00:10:00Z' "
        "AND created_at < '2024-01-01T01:00:00Z' ORDER BY created_at DESC, id LIMIT 20 OFFSET 5",
    )
    assert len(got) == 20 and got[0] != got[1]  # ties (three a minute) broken by id ascending
    assert users(peers[0], "(orderBy: [{lastName: DESC}], limit: 3)") == sql(
        dsns[0], "SELECT id FROM tb_user ORDER BY last_name DESC, id LIMIT 3"
    )


def test_and_or_not(peers: list[run.Running]) -> None:
    assert users(peers[0], "(where: {NOT: {id: {lte: 296}}})") == [(297,), (298,), (299,), (300,)]
    assert users(
        peers[0], "(where: {OR: [{id: {eq: 3}}, {id: {in: [9, 1]}}], AND: [{id: {gt: 1}}]})"
    ) == [(3,), (9,)]


def test_connection_walk_yields_every_row_once(peers: list[run.Running]) -> None:
    query = (
        "query($after: String) { usersConnection(first: 7, after: $after, "
        "where: {id: {gt: 10}}) { totalCount edges { cursor node { id } } "
        "pageInfo { hasNextPage endCursor } } }"
    )
    seen, after, pages = [], None, 0
    while True:
        page = ask(peers[0], query, {"after": after})["data"]["usersConnection"]
        assert page["totalCount"] == USERS - 10
        seen += [e["node"]["id"] for e in page["edges"]]
        pages += 1
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert seen == list(range(11, USERS + 1)) and pages == -(-(USERS - 10) // 7)


def test_bad_input_is_a_graphql_error_naming_it(peers: list[run.Running]) -> None:
    answer = ask(peers[0], '{ usersConnection(after: "bm90LWEtY3Vyc29y") { totalCount } }')
    assert "after: not a cursor of usersConnection" in answer["errors"][0]["message"]
    answer = ask(peers[0], "{ users(limit: 1001) { id } }")
    assert "limit must be between 0 and 1000, got 1001" in answer["errors"][0]["message"]
    answer = ask(peers[0], "{ users(where: {email: {like: 1}}) { id } }")
    assert "like" in answer["errors"][0]["message"]


def test_check_fails_the_server_that_differs(peers: list[run.Running]) -> None:
    email = next(q for q in queries.QUERIES if "email" in q.name)
    params = [{"email": f"user{i}@example.com"} for i in (3, 7, 11)]
    named = [run.Running(p.server, p.url, p.pid, p.log) for p in peers]
    for i, r in enumerate(named):
        r.server = servers.Server(f"s{i}", r.server.dialect, r.server.command)
    cells = {(email.name, r.server.name): report.Cell() for r in named}
    run.check(email, params, named, cells)
    assert [cells[(email.name, n)].failed is None for n in ("s0", "s1", "s2")] == [
        True,
        False,
        True,
    ]
    reason = cells[(email.name, "s1")].failed
    assert reason.startswith("differs from s0, s2 on {'email': 'user7@example.com'}: []")
    assert json.loads(cells[(email.name, "s0")].bodies[1]) == {
        "query": queries.document(email.text, "fraiseql"),
        "variables": {"email": "user7@example.com"},
    }


@pytest.mark.parametrize("name", ["fraiseql", "fraiseql on qm_user"])
def test_fraiseql_contender_answers_every_query_as_the_strawberry_peer(
    peers: list[run.Running], dsns: Any, tmp_path: Path, name: str
) -> None:
    fraiseql_server = next(s for s in servers.SERVERS if s.name == name)
    rng = random.Random(3)
    with ExitStack() as stack:
        port = run.free_port()
        proc = stack.enter_context(
            servers.serving(fraiseql_server, port, dsns[0], tmp_path / "fraiseql.log")
        )
        run.wait_listening(proc, port, fraiseql_server.name)
        ours = run.Running(fraiseql_server, f"http://127.0.0.1:{port}/graphql", proc.pid, tmp_path)
        stack.callback(ours.client.close)
        theirs = run.Running(peers[0].server, peers[0].url, peers[0].pid, peers[0].log)
        for r in (ours, theirs):
            r.walk(USERS)
            assert len(r.cursors) == USERS
        for q in queries.QUERIES:
            params = [q.draw(rng, USERS) for _ in range(5)]
            cells = {(q.name, r.server.name): report.Cell() for r in (ours, theirs)}
            run.check(q, params, [ours, theirs], cells)
            assert [c.failed for c in cells.values()] == [None, None], q.name


def test_check_fails_a_server_that_errs(peers: list[run.Running]) -> None:
    walk = next(q for q in queries.QUERIES if q.connection)
    peer = run.Running(peers[0].server, peers[0].url, peers[0].pid, peers[0].log)
    peer.walk_failed = "ValueError: cursor walk: no"
    cells = {(walk.name, peer.server.name): report.Cell()}
    run.check(walk, [{"after_id": 1}], [peer], cells)
    assert cells[(walk.name, peer.server.name)].failed == "no cursors: ValueError: cursor walk: no"


def test_the_results_section_is_replaced_in_place() -> None:
    other = "# Results\n\n## A\n\na\n"
    first = report.replace_section(other, report.TITLE + "\n\nold\n")
    assert first == other + "\n" + report.TITLE + "\n\nold\n"
    again = report.replace_section(first + "\n## B\n\nb\n", report.TITLE + "\n\nnew\n")
    assert again == other + "\n" + report.TITLE + "\n\nnew\n\n## B\n\nb\n"


def test_answers_of_both_apis_normalise_alike() -> None:
    row = {"firstName": "F", "lastName": "L", "email": "e", "createdAt": "2024-01-01T00:00:00Z"}
    page = next(q for q in queries.QUERIES if "totalCount" in q.name)
    pg = {"allTbUsers": {"totalCount": 1, "pageInfo": {"hasNextPage": False},
                         "edges": [{"cursor": "c", "node": {"id": "5", **row}}]}}  # fmt: skip
    ours = {"usersConnection": {"totalCount": 1, "pageInfo": {"hasNextPage": False},
                                "edges": [{"cursor": "d", "node": {"id": 5, **row}}]}}  # fmt: skip
    a = queries.normalise(page, "postgraphile v5", {"data": pg})
    assert a == queries.normalise(page, "fraiseql", {"data": ours})
    assert a["users"][0][0] == 5 and a["users"][0][4].utcoffset().total_seconds() == 0
    with pytest.raises(ValueError, match="error answer"):
        queries.normalise(page, "fraiseql", {"errors": [{"message": "x"}], "data": None})
    assert "id: rowId" in queries.document(page.text, "postgraphile v5")
    assert "@id" not in queries.document(page.text, "postgraphile v4")


def test_backends_cpu_counts_the_database_backends_work(dsns: Any) -> None:
    async def work() -> tuple[int, dict[int, float], dict[int, float]]:
        conn = await connect(dsns[0])
        try:
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            before = await asyncio.to_thread(run.backends_cpu, dsns[0])
            await conn.fetchval("SELECT count(*) FROM generate_series(1, 3000000)")
            return pid, before, await asyncio.to_thread(run.backends_cpu, dsns[0])
        finally:
            await conn.close()

    pid, before, after = asyncio.run(work())
    assert pid in before and pid in after
    assert after[pid] > before[pid]
