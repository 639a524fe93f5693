"""GraphQL over WebSocket (graphql-transport-ws): a real client on a real socket against the
app under uvicorn; the protocol's messages, its close codes, limits and misbehaving clients."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from graphql import GraphQLError
from support.http_server import serve
from support.ws_client import Client

import fraiseql
from fraiseql.ws import WebSocketLimits

INIT = {"type": "connection_init"}
CLOSED: list[str] = []  # subscriptions whose generator was closed (the server's thread appends)
_lock = threading.Lock()


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    fraiseql.reset_registry()

    @fraiseql.type
    class Tick:
        n: int
        label: str | None

    @fraiseql.query
    async def whoami(info) -> str | None:
        return info.context.get("user")

    @fraiseql.mutation
    async def shout(info, word: str) -> str:
        return word.upper()

    @fraiseql.subscription
    async def ticks(info, upto: int) -> AsyncIterator[Tick]:
        for i in range(upto):
            yield {"n": i, "label": f"t{i}"}

    @fraiseql.subscription
    async def forever(info, name: str) -> AsyncIterator[Tick]:
        try:
            yield {"n": 0, "label": name}
            while True:
                await asyncio.sleep(3600)
        finally:
            with _lock:
                CLOSED.append(name)

    @fraiseql.subscription
    async def firehose(info, name: str) -> AsyncIterator[Tick]:
        try:
            while True:  # incompressible (the socket deflates messages)
                yield {"n": 1, "label": secrets.token_hex(50_000)}
                await asyncio.sleep(0)
        finally:
            with _lock:
                CLOSED.append(name)

    @fraiseql.subscription
    async def denied(info) -> AsyncIterator[Tick]:
        raise GraphQLError("You may not read this.", extensions={"code": "FORBIDDEN"})
        yield {}

    @fraiseql.subscription
    async def broken(info) -> AsyncIterator[Tick]:
        yield {"n": 1, "label": "ok"}
        raise RuntimeError("secret host db.internal:5432")

    def context(request: Any) -> dict[str, Any]:
        params = request.connection_params or {}
        if params.get("token") == "bad":
            raise PermissionError("bad token")
        return {"user": params.get("token")}

    app = fraiseql.create_app(
        context_getter=context,
        websocket_limits=WebSocketLimits(
            init_timeout=0.5, max_subscriptions=3, max_message_bytes=4000, send_timeout=1.0
        ),
    )
    fraiseql.reset_registry()
    with serve(app) as base:
        yield base


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def wait_closed(name: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with _lock:
            if name in CLOSED:
                return
        time.sleep(0.01)
    raise AssertionError(f"the generator of {name} was never closed")


def test_subscription_streams_then_completes(url: str) -> None:
    async def go() -> list[Any]:
        client = await Client.open(url)
        await client.subscribe("1", "subscription { ticks(upto: 3) { n label __typename } }")
        got = [await client.recv() for _ in range(4)]
        await client.close()
        return got

    got = run(go())
    assert got[:3] == [
        {
            "id": "1",
            "type": "next",
            "payload": {"data": {"ticks": {"n": i, "label": f"t{i}", "__typename": "Tick"}}},
        }
        for i in range(3)
    ]
    assert got[3] == {"id": "1", "type": "complete"}


def test_queries_and_mutations_over_the_socket_see_connection_params(url: str) -> None:
    async def go() -> list[Any]:
        client = await Client.open(url, token="ann")
        await client.subscribe("q", "{ whoami }")
        await client.subscribe("m", 'mutation { shout(word: "hi") }')
        got = [await client.recv() for _ in range(4)]
        await client.send({"type": "ping"})
        got.append(await client.recv())
        await client.close()
        return got

    got = run(go())
    assert {"id": "q", "type": "next", "payload": {"data": {"whoami": "ann"}}} in got
    assert {"id": "m", "type": "next", "payload": {"data": {"shout": "HI"}}} in got
    assert {"id": "q", "type": "complete"} in got and {"id": "m", "type": "complete"} in got
    assert got[4] == {"type": "pong"}


def test_request_errors_and_refused_subscriptions_get_error_messages(url: str) -> None:
    async def go() -> list[Any]:
        client = await Client.open(url)
        await client.subscribe("a", "subscription { nope }")
        await client.subscribe("b", "subscription { denied { n } }")
        await client.subscribe("c", "subscription { broken { n } }")
        got = [await client.recv() for _ in range(4)]
        await client.close()
        return got

    got = run(go())
    by_id: dict[str, list[Any]] = {}
    for message in got:
        by_id.setdefault(message["id"], []).append(message)
    assert by_id["a"][0]["type"] == "error"
    assert (
        "Cannot query field 'nope' on type 'Subscription'."
        in by_id["a"][0]["payload"][0]["message"]
    )
    assert by_id["b"][0]["type"] == "error"
    assert by_id["b"][0]["payload"][0]["message"] == "You may not read this."
    assert by_id["b"][0]["payload"][0]["extensions"] == {"code": "FORBIDDEN"}
    first, error = by_id["c"]
    assert first["payload"] == {"data": {"broken": {"n": 1}}}
    assert error["type"] == "error"  # masked: the host stays on the server
    assert error["payload"][0]["message"] == "Internal server error"
    assert "db.internal" not in json.dumps(error)


def test_complete_from_the_client_closes_the_generator(url: str) -> None:
    async def go() -> Any:
        client = await Client.open(url)
        await client.subscribe("1", 'subscription { forever(name: "stopped") { label } }')
        first = await client.recv()
        await client.send({"type": "complete", "id": "1"})
        wait = asyncio.get_running_loop().run_in_executor(None, wait_closed, "stopped")
        await wait
        await client.subscribe("1", "{ whoami }")  # the id is free again
        again = await client.recv()
        await client.close()
        return first, again

    first, again = run(go())
    assert first["payload"] == {"data": {"forever": {"label": "stopped"}}}
    assert again == {"id": "1", "type": "next", "payload": {"data": {"whoami": None}}}


def test_disconnect_closes_every_generator(url: str) -> None:
    async def go() -> None:
        client = await Client.open(url)
        await client.subscribe("1", 'subscription { forever(name: "gone") { label } }')
        await client.recv()
        await client.close()

    run(go())
    wait_closed("gone")


def test_too_many_operations_get_an_error_and_the_connection_carries_on(url: str) -> None:
    async def go() -> list[Any]:
        client = await Client.open(url)
        for i in range(3):
            await client.subscribe(str(i), f'subscription {{ forever(name: "many{i}") {{ n }} }}')
            await client.recv()
        await client.subscribe("3", 'subscription { forever(name: "many3") { n } }')
        refused = await client.recv()
        await client.send({"type": "complete", "id": "0"})
        await asyncio.get_running_loop().run_in_executor(None, wait_closed, "many0")
        await client.subscribe("4", "{ whoami }")
        got = [refused, await client.recv()]
        await client.close()
        return got

    refused, answered = run(go())
    assert refused["id"] == "3" and refused["type"] == "error"
    assert "at most 3" in refused["payload"][0]["message"]
    assert answered == {"id": "4", "type": "next", "payload": {"data": {"whoami": None}}}


def test_ten_thousand_subscribes_on_one_connection_are_refused_one_by_one(url: str) -> None:
    async def go() -> tuple[int, Any]:
        client = await Client.open(url)
        for i in range(3):
            await client.subscribe(
                f"keep{i}", f'subscription {{ forever(name: "flood{i}") {{ n }} }}'
            )
            await client.recv()
        for i in range(10_000):
            await client.subscribe(str(i), "{ whoami }")
        refused = 0
        for _ in range(10_000):
            message = await client.recv()
            refused += (
                message["type"] == "error" and "at most 3" in message["payload"][0]["message"]
            )
        await client.send({"type": "complete", "id": "keep0"})
        await asyncio.get_running_loop().run_in_executor(None, wait_closed, "flood0")
        await client.subscribe("after", "{ whoami }")
        answer = await client.recv()
        await client.close()
        return refused, answer

    refused, answer = run(go())
    assert refused == 10_000
    assert answer == {"id": "after", "type": "next", "payload": {"data": {"whoami": None}}}


@pytest.mark.parametrize(
    ("messages", "code", "reason"),
    [
        ([{"type": "bogus"}], 4400, "unknown type 'bogus'"),
        (["{not json"], 4400, "Invalid message received"),
        (["[1, 2]"], 4400, "an object with a 'type'"),
        ([{"type": "connection_init", "payload": [1]}], 4400, "payload must be an object"),
        ([{"type": "subscribe", "id": "1", "payload": {"query": "{ whoami }"}}], 4401, "Unauthorized"),
        ([{"type": "connection_init"}, {"type": "connection_init"}], 4429, "Too many initialisation"),
        ([{"type": "connection_init", "payload": {"token": "bad"}}], 4403, "Forbidden: bad token"),
        ([INIT, {"type": "subscribe", "id": 7, "payload": {}}], 4400, "string id"),
        ([INIT, {"type": "subscribe", "id": "1", "payload": {"query": 1}}], 4400, "needs a query"),
        ([{"type": "connection_init"}, {"type": "ping"}, "x" * 5000], 4400, "5000 bytes exceeds 4000"),
        ([], 4408, "Connection initialisation timeout"),
    ],
)  # fmt: skip
def test_close_codes(url: str, messages: list[Any], code: int, reason: str) -> None:
    async def go() -> tuple[int, str]:
        client = await Client.open(url, init=False)
        for message in messages:
            await client.send(message)
        return await client.closed()

    got_code, got_reason = run(go())
    assert got_code == code
    assert reason in got_reason


def test_duplicate_subscription_id_closes_4409(url: str) -> None:
    async def go() -> tuple[int, str]:
        client = await Client.open(url)
        await client.subscribe("same", 'subscription { forever(name: "dup") { n } }')
        await client.recv()
        await client.subscribe("same", 'subscription { forever(name: "dup2") { n } }')
        return await client.closed()

    assert run(go()) == (4409, "Subscriber for same already exists")
    wait_closed("dup")


def test_a_client_that_never_reads_is_dropped_and_others_are_served(url: str) -> None:
    async def go() -> Any:
        stuck = await Client.open(url)
        await stuck.subscribe("1", 'subscription { firehose(name: "stuck") { label } }')
        # never reads: the server's sends block once the socket buffers are full
        await asyncio.get_running_loop().run_in_executor(None, wait_closed, "stuck")
        other = await Client.open(url)
        await other.subscribe("1", "subscription { ticks(upto: 1) { n } }")
        answer = await other.recv()
        await other.close()
        stuck.ws.transport.abort()
        return answer

    assert run(go())["payload"] == {"data": {"ticks": {"n": 0}}}


def test_http_refuses_subscriptions_and_names_websocket(url: str) -> None:
    import httpx

    response = httpx.post(url + "/graphql", json={"query": "subscription { ticks(upto: 1) { n } }"})
    assert response.status_code == 200
    message = response.json()["errors"][0]["message"]
    assert "WebSocket" in message and "graphql-transport-ws" in message


def test_other_subprotocols_and_paths_are_refused(url: str) -> None:
    import websockets

    async def go(path: str, protocols: list[str]) -> int:
        try:
            async with websockets.connect(
                url.replace("http://", "ws://") + path, subprotocols=protocols
            ):
                return 101
        except websockets.InvalidStatus as exc:
            return exc.response.status_code

    assert run(go("/graphql", ["graphql-ws"])) == 403  # the older, different protocol
    assert run(go("/elsewhere", ["graphql-transport-ws"])) == 403
