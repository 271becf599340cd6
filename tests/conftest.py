"""Shared fixtures: one trained model and one running bot per test session.

Training is the slow part (about a minute), so it happens once per session into a
session folder; the servers run against their own SQLite database and a local SMTP server
so the tests never touch the developer's var/ folder.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SHARED = ROOT.parent / "shared"
SMS_AUTH_TOKEN = "test-twilio-auth-token"
SMS_BASE_URL = "https://pathfinder.example.org"  # the public URL a proxy would forward from
POSTGRES_URL = os.environ.get("PATHFINDER_TEST_POSTGRES_URL", "postgresql://postgres@localhost:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(**extra: str) -> dict:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    env.update(extra)
    return env


WALSALL_TEAM_PHONE, WALSALL_EDT_PHONE = "01632 960201", "01632 960202"  # knowledge/offers/walsall.yml


def gives_walsall_a_number_that_answers_now(reply: str) -> bool:
    """The failure reply's rule (#16): the leaving care team's number with when it closes while
    it is open; out of hours the emergency duty team's, not the closed office's."""
    if f"{WALSALL_TEAM_PHONE} until" in reply:
        return True
    return f"Emergency Duty Team on {WALSALL_EDT_PHONE}" in reply and WALSALL_TEAM_PHONE not in reply


def status_before_body(url: str, path: str, length: int, timeout: float = 5.0) -> Optional[int]:
    """The status a server answers to a POST that announces `length` bytes and sends none of them
    (None if it waits for the body): a server that caps bodies early answers 413 at once."""
    parsed = urllib.parse.urlsplit(url)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout) as connection:
        connection.sendall(f"POST {path} HTTP/1.1\r\nHost: {parsed.netloc}\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {length}\r\n\r\n".encode())
        try:
            first_line = connection.recv(200).split(b"\r\n", 1)[0]
        except socket.timeout:
            return None
    parts = first_line.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pathfinder")


@pytest.fixture(scope="session")
def trained_model(session_dir) -> Path:
    """Train the project's model once for the whole session.

    PATHFINDER_TEST_MODEL=path/to/model.tar.gz re-uses a model you trained from the current
    data (handy when re-running a few tests); CI never sets it, so CI always trains.
    """
    reuse = os.environ.get("PATHFINDER_TEST_MODEL")
    if reuse:
        assert Path(reuse).is_file(), f"PATHFINDER_TEST_MODEL={reuse} is not a file"
        return Path(reuse)
    subprocess.run([PYTHON, "-m", "bot.nlu.spacy_pipeline"], cwd=ROOT, env=base_env(), check=True)
    out = session_dir / "models"
    result = subprocess.run(
        [PYTHON, "-m", "rasa", "train", "--out", str(out), "--fixed-model-name", "pathfinder"],
        cwd=ROOT,
        env=base_env(),
        capture_output=True,
        text=True,
    )
    model = out / "pathfinder.tar.gz"
    assert result.returncode == 0 and model.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    return model


@dataclass
class BotServer:
    url: str
    token: str
    database_url: str
    smtp_messages: list
    processes: List[subprocess.Popen]
    action_url: str = ""

    def say(self, sender: str, text: str, council: Optional[str] = None, metadata: Optional[dict] = None) -> List[dict]:
        body = {"sender": sender, "message": text, "metadata": metadata if metadata is not None else ({"council": council} if council else {})}
        request = urllib.request.Request(
            self.url + "/webhooks/rest/webhook", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            return json.loads(reply.read())

    def tracker(self, sender: str) -> dict:
        query = urllib.parse.urlencode({"token": self.token})
        with urllib.request.urlopen(f"{self.url}/conversations/{sender}/tracker?{query}", timeout=30) as reply:
            return json.loads(reply.read())

    def slot(self, sender: str, name: str):
        return self.tracker(sender)["slots"].get(name)


def texts(messages: List[dict]) -> str:
    """All reply text of one turn (with button titles), for assertions."""
    parts = []
    for message in messages:
        parts.append(message.get("text") or "")
        parts.extend(b.get("title", "") for b in message.get("buttons") or [])
    return "\n".join(parts)


def cards(messages: List[dict]) -> List[str]:
    """The answer cards of one turn: the messages with the card's "Where is this from?" button."""
    return [m.get("text") or "" for m in messages if any(b.get("title") == "Where is this from?" for b in m.get("buttons") or [])]


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex}"


def _wait(url: str, processes: List[subprocess.Popen], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"a server exited early ({process.args}); see its log in the session folder")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {timeout}s")


@contextlib.contextmanager
def smtp_collector() -> Iterator[tuple]:
    """A real local SMTP server (aiosmtpd) on a free port, collecting every e-mail sent to
    it: yields (controller, handler), with the e-mails in `handler.messages`."""
    from aiosmtpd.controller import Controller

    class Collector:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append({"to": envelope.rcpt_tos, "data": envelope.content.decode("utf8", "replace")})
            return "250 OK"

    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


@contextlib.contextmanager
def hung_relay() -> Iterator[int]:
    """A mail relay that accepts connections and never says a word (yields its port): the
    outage of issue #13, where every SMTP call waited until its timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(100)
    listener.settimeout(0.2)
    held, stop = [], threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def wait_for(predicate, timeout: float = 10.0):
    """The predicate's first truthy value within `timeout` seconds (its last value if none)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


@pytest.fixture(scope="session")
def smtp_server():
    """A real local SMTP server (aiosmtpd) collecting every e-mail the bot sends."""
    with smtp_collector() as server:
        yield server


def start_bot(
    model: Path,
    folder: Path,
    smtp_port: int,
    with_actions: bool = True,
    database_url: Optional[str] = None,
    endpoints: str = "endpoints.yml",
    action_url: Optional[str] = None,
    extra_env: Optional[Dict[str, str]] = None,
    wait: bool = True,
) -> BotServer:
    """Start the Rasa server (and the action server unless told not to) on free ports.

    The defaults give one self-contained bot on its own SQLite file. For several Rasa
    servers sharing one database and action server (tests/test_multi_server.py, bench/),
    pass `database_url`, `endpoints` (e.g. deploy/endpoints.multi.yml), the first server's
    `action_url` with `with_actions=False`, and `wait=False` to start them side by side
    (then call `wait_ready`).
    """
    folder.mkdir(parents=True, exist_ok=True)
    rasa_port, action_port = free_port(), free_port()
    token = uuid.uuid4().hex
    database_url = database_url or f"sqlite:///{folder / 'bot.db'}"
    action_url = action_url or f"http://127.0.0.1:{action_port}/webhook"
    env = base_env(
        PATHFINDER_DB_URL=database_url,
        PATHFINDER_ACTION_URL=action_url,
        PATHFINDER_ACTION_PORT=str(action_port),
        PATHFINDER_SMTP_HOST="127.0.0.1",
        PATHFINDER_SMTP_PORT=str(smtp_port),
        PATHFINDER_VAR_DIR=str(folder / "var"),
        PATHFINDER_SMS_AUTH_TOKEN=SMS_AUTH_TOKEN,
        PATHFINDER_AUTH_TOKEN=token,  # read by bot.rasa_server: never on a command line
        PATHFINDER_SMS_HASH_KEY="test-hash-key",
        PATHFINDER_SMS_BASE_URL=SMS_BASE_URL,
        PATHFINDER_SMS_MODE="outbox",
        **(extra_env or {}),
    )
    subprocess.run([PYTHON, "-m", "bot.content", "reload"], cwd=ROOT, env=env, check=True, capture_output=True)
    commands = [
        [PYTHON, "-m", "bot.rasa_server", "--model", str(model), "--enable-api",
         "--interface", "127.0.0.1", "--port", str(rasa_port), "--credentials", "credentials.yml",
         "--endpoints", endpoints],
    ]
    if with_actions:
        commands.append([PYTHON, "-m", "bot.action_server"])
    processes = []
    for command in commands:
        log = open(folder / f"{command[2].replace('.', '_')}.log", "w")
        processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        log.close()
    server = BotServer(f"http://127.0.0.1:{rasa_port}", token, database_url, [], processes, action_url)
    if wait:
        wait_ready(server)
    return server


def wait_ready(server: BotServer, timeout: float = 240) -> None:
    """Wait until the server's action server (if it started one) and REST channel answer;
    stop it and raise if either does not come up."""
    try:
        if len(server.processes) > 1:
            _wait(server.action_url.rsplit("/", 1)[0] + "/health", server.processes, timeout)
        _wait(server.url + "/webhooks/rest/", server.processes, timeout)
    except Exception:
        stop_bot(server)
        raise


def stop_processes(*processes: subprocess.Popen, timeout: float = 20) -> None:
    """Ask every process to stop, then kill any that has not stopped after `timeout` seconds."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class ModuleServer:
    """One of the project's web apps (`python -m <module> --port N`) started for a test."""

    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        stop_processes(self.process)


def start_module_server(module: str, folder: Path, ready_path: str = "/", **env: str) -> ModuleServer:
    """Start `python -m module --port <free port>` with extra environment `env`; return once
    `ready_path` answers (stopping it and raising if it exits or never answers)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = folder / f"{module.replace('.', '_')}-{port}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([PYTHON, "-m", module, "--port", str(port)], cwd=ROOT, env=base_env(**env),
                                   stdout=log, stderr=subprocess.STDOUT)
    server = ModuleServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait(server.url + ready_path, [process], timeout=60)
    except Exception:
        server.stop()
        raise RuntimeError(f"{module} did not start:\n{log_path.read_text()[-3000:]}") from None
    return server


def stop_bot(server: BotServer) -> None:
    stop_processes(*server.processes)


@pytest.fixture(scope="session")
def bot(trained_model, session_dir, smtp_server) -> BotServer:
    """The Rasa server (REST channel, token-protected API) and the action server, running."""
    controller, handler = smtp_server
    server = start_bot(trained_model, session_dir / "bot", controller.port)
    server.smtp_messages = handler.messages
    yield server
    stop_bot(server)
