"""The action server answers stray requests with a clean 4xx, never a 500 (#16), in-process."""
from __future__ import annotations

import asyncio
import json
import zlib

import pytest
from rasa_sdk.endpoint import create_app
from sanic import Sanic

from bot.action_server import harden
from tests.asgi import AsgiClient

JSON = [("Content-Type", "application/json")]


@pytest.fixture(autouse=True)
def many_apps(monkeypatch):
    """Each test makes rasa_sdk's app again, under its fixed name: Sanic allows that in test mode."""
    monkeypatch.setattr(Sanic, "test_mode", True)


def run(coroutine):
    return asyncio.run(coroutine)


async def hardened_client() -> AsgiClient:
    app = create_app("actions", cors_origins=None)
    harden(app)  # what bot.action_server's rasa_sdk hook does before the server starts
    return await AsgiClient(app).start()


@pytest.mark.parametrize(
    "method, path, body, status",
    [
        ("GET", "/nowhere", b"", 404),
        ("GET", "/webhook", b"", 405),
        ("DELETE", "/health", b"", 405),
        ("POST", "/webhook", b"not json", 400),
        ("POST", "/webhook", b"[1, 2]", 400),
        ("POST", "/webhook", b'"just a string"', 400),
        ("POST", "/webhook", b"{}", 400),
        ("POST", "/webhook", b'{"next_action": 5, "tracker": {}}', 400),
        ("POST", "/webhook", b"", 400),
        ("POST", "/webhook", "\ud800".encode("utf-8", "surrogatepass"), 400),
    ],
)
def test_stray_requests_get_a_clean_4xx(method, path, body, status):
    async def check():
        client = await hardened_client()
        try:
            reply = await client.request(method, path, body, JSON)
        finally:
            await client.stop()
        assert reply.status == status, reply.body
        assert "error" in json.loads(reply.body)

    run(check())


def test_a_corrupt_compressed_body_is_a_client_error():
    async def check():
        client = await hardened_client()
        try:
            bad = await client.request("POST", "/webhook", b"not deflate", JSON + [("Content-Encoding", "deflate")])
            not_a_call = await client.request("POST", "/webhook", zlib.compress(b"[1]"), JSON + [("Content-Encoding", "deflate")])
        finally:
            await client.stop()
        assert (bad.status, not_a_call.status) == (400, 400)

    run(check())


def test_a_server_error_does_not_repeat_the_request():
    """rasa_sdk's 500 echoed the whole request body: a tracker holds a young person's messages."""
    async def check():
        app = create_app("actions", cors_origins=None)
        harden(app)

        @app.get("/boom")
        async def boom(_):
            raise RuntimeError("secret tracker text")

        client = await AsgiClient(app).start()
        try:
            reply = await client.request("GET", "/boom")
        finally:
            await client.stop()
        assert reply.status == 500 and b"secret" not in reply.body and b"request_body" not in reply.body

    run(check())


def test_a_real_action_call_still_runs():
    call = {"next_action": "action_no_such_thing", "tracker": {"sender_id": "x", "slots": {}, "latest_message": {},
                                                                "events": [], "paused": False}, "domain": {}, "version": "3.6.2"}

    async def check():
        client = await hardened_client()
        try:
            reply = await client.request("POST", "/webhook", json.dumps(call).encode(), JSON)
        finally:
            await client.stop()
        assert reply.status == 404 and json.loads(reply.body)["action_name"] == "action_no_such_thing"

    run(check())


def test_the_hardening_is_registered_with_rasa_sdk():
    """bot.action_server registers harden() through rasa_sdk's own plugin hook."""
    from rasa_sdk.plugin import plugin_manager

    import bot.action_server as server
    manager = plugin_manager()
    if not manager.is_registered(server):
        manager.register(server)
    app = create_app("actions", cors_origins=None)
    manager.hook.attach_sanic_app_extensions(app=app)

    async def check():
        client = await AsgiClient(app).start()
        try:
            return await client.request("GET", "/nowhere")
        finally:
            await client.stop()

    assert run(check()).status == 404
