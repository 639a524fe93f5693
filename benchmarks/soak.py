"""Soak: the demo app at saturation over real HTTP for a while, optionally under faults (issue 14).

Run: .venv/bin/python benchmarks/soak.py [--seconds 60] [--faults] [--dsn DSN]

The demo's API (benchmarks.bench_app under uvicorn, one worker, in a subprocess) on the
blog data in an embedded PostgreSQL; `--clients` asyncio loops with httpx send, each as
soon as the last answered: `user(id)` with posts, `users(limit: 5)`, `{ __typename }`, an
invalid document, and 5% `createUser` mutations with a unique e-mail (the token) sent as
variables. Every answer is checked against what it must be. Once a second the server's RSS,
open file descriptors and database connections (pg_stat_activity) are sampled.

With --faults, every --fault-every seconds the app's backends are terminated
(pg_terminate_backend), and once, midway, PostgreSQL is restarted (embedded only). Errors
are then allowed for requests in flight at a fault; reads must succeed again within 2 s of
each fault's end.

Checked, exit status 1 otherwise: no unexpected answer (malformed, wrong data, an error
outside faults); no request without an answer within --timeout; every mutation answered
with success is in tb_user and qm_user, every one answered with an error is in neither
(an answer TRANSACTION_OUTCOME_UNKNOWN is counted apart); RSS at the end within +10% of
its value after warm-up (the first 20% of the run); server connections at the end within
the pool's max_size, which it may grow to under load, and file descriptors at most that
many connections' worth (+2, requests in flight) above their warm-up value; and SIGTERM,
sent while the load still runs, stops the server within 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_graphql import USER_QUERY, free_port, wait_listening  # noqa: E402

import fraiseql  # noqa: E402
from fraiseql.demo import setup  # noqa: E402
from fraiseql.embedded import EmbeddedPostgres  # noqa: E402

APP = "benchmarks.bench_app:app"
USERS_QUERY = "{ users(limit: 5) { id firstName userPosts { id title } } }"
INVALID_QUERY = "{ user(id: 1) { nope } }"
INVALID_MESSAGE = "Cannot query field 'nope' on type 'User'."
CREATE_USER = (
    "mutation($first: String!, $last: String!, $email: String!) "
    "{ createUser(input: {firstName: $first, lastName: $last, email: $email}) "
    "{ ... on CreateUserSuccess { user { id email } } ... on CreateUserError { code message } } }"
)
MUTATION_SHARE = 0.05
RECOVERY_LIMIT = 2.0  # seconds after a fault's end by which reads succeed again
SIGTERM_LIMIT = 5.0
RSS_GROWTH_LIMIT = 0.10
WARMUP_SHARE = 0.2
POOL_MAX = 10  # create_app's pool: create_pool's default max_size
FDS_PER_CONNECTION = 2  # libpq's socket and the duplicate the loop watches (fq_pgconn_socket)
APP_NAME = "fraiseql"  # the pool's application_name: how the app's backends are found


@dataclass
class Tally:
    """What the load saw."""

    by_kind: dict[str, int] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    hangs: int = 0
    tolerated: int = 0  # errors of requests in flight at a fault
    committed: list[str] = field(default_factory=list)  # e-mails answered with success
    refused: list[str] = field(default_factory=list)  # e-mails answered with an error
    unknown: list[str] = field(default_factory=list)  # TRANSACTION_OUTCOME_UNKNOWN
    read_failures: list[float] = field(default_factory=list)  # monotonic end times
    faults: list[tuple[float, float, str]] = field(default_factory=list)  # start, end, kind
    stopping: bool = False  # SIGTERM sent: the server may close connections


def in_fault(tally: Tally, start: float, end: float) -> bool:
    """A request that overlapped a fault or its recovery window."""
    return any(s <= end and start <= e + RECOVERY_LIMIT for s, e, _ in tally.faults)


def check_read(kind: str, status: int, body: Any, user_id: int) -> str | None:
    """Why a read's answer is wrong, or None."""
    if status != 200 or not isinstance(body, dict):
        return f"{kind}: status {status}, body {body!r:.200}"
    if kind == "invalid":
        errors = body.get("errors") or [{}]
        ok = "data" not in body and errors[0].get("message") == INVALID_MESSAGE
        return None if ok else f"invalid: {body!r:.200}"
    if "errors" in body:
        return f"{kind}: errors {body['errors']!r:.200}"
    data = body.get("data")
    if kind == "typename":
        ok = data == {"__typename": "Query"}
    elif kind == "user":
        user = (data or {}).get("user") or {}
        ok = user.get("id") == user_id and isinstance(user.get("userPosts"), list)
    else:
        users = (data or {}).get("users")
        ok = isinstance(users, list) and len(users) == 5
    return None if ok else f"{kind}: {body!r:.200}"


async def client_loop(
    url: str, users: int, deadline: float, tally: Tally, timeout: float, seed: int
) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(timeout=timeout) as http:
        while time.monotonic() < deadline:
            roll = rng.random()
            user_id = rng.randint(1, users)
            if roll < MUTATION_SHARE:
                kind = "createUser"
                email = f"soak-{uuid.uuid4().hex}@example.org"
                payload: dict[str, Any] = {
                    "query": CREATE_USER,
                    "variables": {"first": "Soak", "last": "Test", "email": email},
                }
            else:
                kind = rng.choice(("user", "user", "users", "typename", "invalid"))
                payload = {
                    "user": {"query": USER_QUERY, "variables": {"id": user_id}},
                    "users": {"query": USERS_QUERY},
                    "typename": {"query": "{ __typename }"},
                    "invalid": {"query": INVALID_QUERY},
                }[kind]
            tally.by_kind[kind] = tally.by_kind.get(kind, 0) + 1
            start = time.monotonic()
            try:
                r = await http.post(url, json=payload)
            except httpx.TimeoutException:
                tally.hangs += 1
                continue
            except httpx.TransportError as exc:  # the server went away (SIGTERM at the end)
                if not tally.stopping:
                    tally.unexpected.append(f"{kind}: {exc!r}")
                return
            end = time.monotonic()
            try:
                body = r.json()
            except ValueError:
                body = None
            if kind == "createUser":
                record_mutation(tally, email, r.status_code, body, start, end)
                continue
            problem = check_read(kind, r.status_code, body, user_id)
            if problem is not None:
                tally.read_failures.append(end)
                if in_fault(tally, start, end):
                    tally.tolerated += 1
                else:
                    tally.unexpected.append(problem)


def record_mutation(
    tally: Tally, email: str, status: int, body: Any, start: float, end: float
) -> None:
    created = ((body or {}).get("data") or {}).get("createUser") if isinstance(body, dict) else None
    user = created.get("user") if isinstance(created, dict) else None
    if status == 200 and isinstance(user, dict) and user.get("email") == email:
        tally.committed.append(email)
        return
    errors = body.get("errors") if isinstance(body, dict) else None
    if status == 200 and isinstance(created, dict) and created.get("code"):
        errors = [{"message": created.get("message"), "extensions": {"code": created["code"]}}]
    if not errors or not isinstance(errors, list):
        tally.unexpected.append(f"createUser: status {status}, body {body!r:.200}")
        return
    if errors[0].get("extensions", {}).get("code") == "TRANSACTION_OUTCOME_UNKNOWN":
        tally.unknown.append(email)
    else:
        tally.refused.append(email)
    if not in_fault(tally, start, end):
        tally.unexpected.append(f"createUser outside faults: {errors!r:.200}")


async def inject_faults(
    admin_box: list[Any], pg: EmbeddedPostgres, every: float, deadline: float, tally: Tally
) -> None:
    """Terminate the app's backends every `every` s; restart the server once, midway."""
    restart_at = time.monotonic() + (deadline - time.monotonic()) / 2
    while time.monotonic() + every < deadline:
        await asyncio.sleep(every)
        start = time.monotonic()
        if start >= restart_at:
            restart_at = float("inf")
            tally.faults.append((start, start + 60, "restart"))  # until it is back
            await asyncio.to_thread(pg.restart)
            tally.faults[-1] = (start, time.monotonic(), "restart")
            await admin_box[0].close()
            admin_box[0] = await fraiseql.connect(pg.dsn_for("fraiseql_soak"))
            continue
        tally.faults.append((start, start, "terminate"))
        await admin_box[0].execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = $1 AND pid <> pg_backend_pid()",
            APP_NAME,
        )
        tally.faults[-1] = (start, time.monotonic(), "terminate")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def sample(admin_box: list[Any], pid: int, deadline: float, samples: list[tuple]) -> None:
    """(time, RSS kB, open fds, app connections) once a second."""
    while time.monotonic() < deadline:
        try:
            conns = await admin_box[0].fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = $1 AND pid <> pg_backend_pid()",
                APP_NAME,
            )
        except fraiseql.DatabaseError:
            conns = None  # during the restart
        samples.append((time.monotonic(), rss_kb(pid), len(os.listdir(f"/proc/{pid}/fd")), conns))
        await asyncio.sleep(1.0)


async def soak(
    url: str, dsn: str, proc: subprocess.Popen[bytes], pg: EmbeddedPostgres, args: Any
) -> tuple[Tally, list[tuple], float]:
    tally = Tally()
    start = time.monotonic()
    deadline = start + args.seconds
    admin_box = [await fraiseql.connect(dsn)]
    samples: list[tuple] = []
    clients = [
        asyncio.ensure_future(client_loop(url, args.users, deadline + 30, tally, args.timeout, i))
        for i in range(args.clients)
    ]
    sampler = asyncio.ensure_future(sample(admin_box, proc.pid, deadline, samples))
    if args.faults:
        await inject_faults(admin_box, pg, args.fault_every, deadline, tally)
    await asyncio.sleep(max(0.0, deadline - time.monotonic()))
    await sampler
    # SIGTERM while the load still runs
    tally.stopping = True
    proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    while time.monotonic() - sent < 30 and proc.poll() is None:
        await asyncio.sleep(0.05)
    stop_s = time.monotonic() - sent
    for c in clients:
        c.cancel()
    await asyncio.gather(*clients, return_exceptions=True)
    await verify_mutations(admin_box[0], tally)
    await admin_box[0].close()
    return tally, samples, stop_s


async def verify_mutations(admin: Any, tally: Tally) -> None:
    """Answered success: in tb_user and qm_user; answered error: in neither."""
    for label, emails, want in (
        ("answered success", tally.committed, 1),
        ("answered error", tally.refused, 0),
    ):
        for table, column in (("tb_user", "email"), ("qm_user", "data->>'email'")):
            found = await admin.fetchval(
                f"SELECT count(*) FROM {table} WHERE {column} = ANY($1::text[])", emails
            )
            if found != want * len(emails):
                tally.unexpected.append(
                    f"{label}: {found} of {len(emails)} in {table} (expected {want * len(emails)})"
                )


def report(tally: Tally, samples: list[tuple], stop_s: float, args: argparse.Namespace) -> bool:
    warm = [s for s in samples if s[0] >= samples[0][0] + WARMUP_SHARE * args.seconds]
    first, last = warm[0], warm[-1]
    conns_first = next((s[3] for s in warm if s[3] is not None), None)
    conns_last = next((s[3] for s in reversed(warm) if s[3] is not None), None)
    total = sum(tally.by_kind.values())
    # The pool opens connections up to its max_size as the load asks: growth within that
    # bound is the pool at work, past it a leak. 2 more fds: requests in flight.
    slack = POOL_MAX * FDS_PER_CONNECTION + 2
    # per fault: its end to the last failed read before the next fault began
    ends = [
        (e, nxt[0])
        for (_, e, _), nxt in zip(tally.faults, [*tally.faults[1:], (1e18,)], strict=False)
    ]
    worst = max(
        (max((t - e for t in tally.read_failures if e <= t < nxt), default=0.0) for e, nxt in ends),
        default=0.0,
    )
    checks = [
        ("unexpected answers", len(tally.unexpected), len(tally.unexpected) == 0),
        (f"requests without an answer in {args.timeout:.0f}s", tally.hangs, tally.hangs == 0),
        ("mutations answered success, all stored", len(tally.committed), True),
        ("mutations answered error, none stored", len(tally.refused), True),
        ("mutations answered outcome unknown", len(tally.unknown), True),
        (
            "RSS after warm-up -> end (MB)",
            f"{first[1] / 1024:.1f} -> {last[1] / 1024:.1f}",
            last[1] <= first[1] * (1 + RSS_GROWTH_LIMIT),
        ),
        ("open fds after warm-up -> end", f"{first[2]} -> {last[2]}", last[2] <= first[2] + slack),
        (
            "server connections after warm-up -> end",
            f"{conns_first} -> {conns_last}",
            conns_first is not None and conns_last is not None and conns_last <= POOL_MAX,
        ),
        ("SIGTERM to exit (s)", f"{stop_s:.2f}", stop_s <= SIGTERM_LIMIT),
    ]
    if args.faults:
        checks += [
            ("faults (terminations, restarts)", len(tally.faults), bool(tally.faults)),
            ("errors tolerated at faults", tally.tolerated, True),
            ("slowest read recovery after a fault (s)", f"{worst:.2f}", worst <= RECOVERY_LIMIT),
        ]
    mix = ", ".join(f"{k} {v}" for k, v in sorted(tally.by_kind.items()))
    print(f"\n## Soak: {args.seconds:.0f} s, {args.clients} clients, faults {args.faults}\n")
    print(f"{total} requests ({total / args.seconds:.0f}/s): {mix}\n")
    print("| check | value | ok |")
    print("|---|---:|---|")
    for name, value, ok in checks:
        print(f"| {name} | {value} | {'yes' if ok else 'NO'} |")
    for problem in tally.unexpected[:20]:
        print("unexpected:", problem)
    return all(ok for *_, ok in checks)


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--timeout", type=float, default=15.0, help="client timeout per request")
    p.add_argument("--faults", action="store_true", help="terminate backends, restart once")
    p.add_argument("--fault-every", type=float, default=3.0)
    p.add_argument("--users", type=int, default=10_000)
    p.add_argument("--posts", type=int, default=200_000)
    args = p.parse_args()
    with EmbeddedPostgres() as pg:
        dsn = pg.create_database("fraiseql_soak")
        asyncio.run(setup(dsn, args.users, args.posts))
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "fraiseql.cli", "serve", APP, "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "FRAISEQL_BENCH_DSN": dsn},
            stdout=subprocess.DEVNULL,
            # faults make the server log a line per lost connection: not in the summary
            stderr=subprocess.DEVNULL if args.faults else None,
        )
        try:
            wait_listening(proc, port, "fraiseql serve")
            url = f"http://127.0.0.1:{port}/graphql"
            tally, samples, stop_s = asyncio.run(soak(url, dsn, proc, pg, args))
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        return 0 if report(tally, samples, stop_s, args) else 1


if __name__ == "__main__":
    sys.exit(main())
