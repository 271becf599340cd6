"""Requests to a Sanic app in this process, through its ASGI interface (no port, no thread).

Why: sanic-testing is not installed, and a subprocess per case would make small tests of
routing and error handling slow. The app gets a lifespan start-up first, as a server gives it.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Dict, Iterable, Optional, Tuple

from sanic import Sanic


@dataclass
class Reply:
    status: int
    headers: Dict[str, str]
    body: bytes


class AsgiClient:
    """`await client.request("POST", "/webhook", b"...")` against one started app."""

    def __init__(self, app: Sanic):
        self.app = app
        self._lifespan: Optional[asyncio.Task] = None
        self._events: asyncio.Queue = asyncio.Queue()

    async def start(self) -> "AsgiClient":
        started = asyncio.Event()

        async def receive():
            return await self._events.get()

        async def send(message):
            if message["type"].startswith("lifespan.startup"):
                started.set()

        await self._events.put({"type": "lifespan.startup"})
        self._lifespan = asyncio.create_task(self.app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
        await asyncio.wait_for(started.wait(), timeout=30)
        return self

    async def stop(self) -> None:
        """Ends the lifespan task (Sanic 21.12 mishandles an ASGI shutdown message, so it is cancelled)."""
        if self._lifespan is not None:
            self._lifespan.cancel()
            try:
                await self._lifespan
            except BaseException:  # noqa: BLE001 - cancelled, or Sanic's own error on the way out
                pass

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: Iterable[Tuple[str, str]] = (), query: str = "") -> Reply:
        sent = []

        async def receive():
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            sent.append(message)

        raw_headers = [(b"host", b"test")] + [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        if body:
            raw_headers.append((b"content-length", str(len(body)).encode()))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
                 "path": path, "raw_path": path.encode("utf-8", "surrogateescape"), "query_string": query.encode(),
                 "root_path": "", "headers": raw_headers, "client": ("127.0.0.1", 40000), "server": ("test", 80)}
        await self.app(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        headers_out = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start.get("headers", [])}
        return Reply(start["status"], headers_out, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))
