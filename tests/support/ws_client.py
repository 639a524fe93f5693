"""A graphql-transport-ws client over a real socket (the `websockets` package), for tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets

SUBPROTOCOL = "graphql-transport-ws"
# Long enough for a loaded CI machine; a test waiting this long has failed anyway.
WAIT = 10.0


class Client:
    """One WebSocket connection speaking the protocol; `await Client.open(url)`."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    @classmethod
    async def open(
        cls, base_url: str, path: str = "/graphql", init: bool = True, **init_payload: Any
    ) -> Client:
        ws = await websockets.connect(
            base_url.replace("http://", "ws://") + path, subprotocols=[SUBPROTOCOL]
        )
        client = cls(ws)
        if init:
            await client.send({"type": "connection_init", "payload": init_payload})
            assert await client.recv() == {"type": "connection_ack"}
        return client

    async def send(self, message: Any) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def recv(self) -> Any:
        return json.loads(await asyncio.wait_for(self.ws.recv(), WAIT))

    async def subscribe(self, op_id: str, query: str, **payload: Any) -> None:
        await self.send({"type": "subscribe", "id": op_id, "payload": {"query": query, **payload}})

    async def closed(self) -> tuple[int, str]:
        """(code, reason) of the server's close, after any messages still on the way."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), WAIT)
        except websockets.ConnectionClosed as exc:
            assert exc.rcvd is not None, "closed without a close frame from the server"
            return exc.rcvd.code, exc.rcvd.reason

    async def close(self) -> None:
        await self.ws.close()
