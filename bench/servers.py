"""The servers a benchmark run starts and stops itself: Pathfinder (through the test
suite's `start_bot`, so the bench runs exactly what the tests run), the stock `rasa init`
bot and a throw-away PostgreSQL database (the SMTP server is the tests' `smtp_collector`).
Only processes started here are ever stopped, by their own handles."""
from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path
from typing import Dict, Iterator, Optional

from tests.conftest import PYTHON, BotServer, base_env, free_port, start_bot, stop_bot, wait_ready


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a live process (VmHWM in /proc/<pid>/status), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def server_rss(server: BotServer) -> Dict[str, float]:
    """Peak RSS of the Rasa server and (if it has one) the action server."""
    names = ("rasa", "actions")
    return {name: peak_rss_mb(process.pid) for name, process in zip(names, server.processes)}


@contextlib.contextmanager
def postgres_database() -> Iterator[Optional[str]]:
    """A fresh PostgreSQL database for the run (dropped afterwards); None if unreachable."""
    from sqlalchemy import text

    from tests.test_store import postgres_engine

    try:
        admin, name, engine = postgres_engine()
    except BaseException as error:  # noqa: BLE001 - pytest.skip raises a BaseException
        print(f"PostgreSQL not reachable, its phases are skipped: {error}")
        yield None
        return
    try:
        yield engine.url.render_as_string(hide_password=False)
    finally:
        engine.dispose()
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def pathfinder(model: Path, folder: Path, smtp_port: int, database_url: Optional[str]) -> Iterator[BotServer]:
    """Pathfinder's Rasa and action servers on free ports (SQLite file if no database_url)."""
    server = start_bot(model, folder, smtp_port, database_url=database_url)
    try:
        yield server
    finally:
        stop_bot(server)


@contextlib.contextmanager
def stock_bot(project: Path, folder: Path) -> Iterator[BotServer]:
    """`rasa run` of a `rasa init` project (REST channel, in-memory tracker store)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = open(folder / "stock_rasa.log", "w")
    process = subprocess.Popen(
        [PYTHON, "-m", "rasa", "run", "--interface", "127.0.0.1", "--port", str(port),
         "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"],
        cwd=project, env=base_env(), stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    server = BotServer(f"http://127.0.0.1:{port}", "", "", [], [process])
    try:
        wait_ready(server)
        yield server
    finally:
        stop_bot(server)


def create_stock_project(directory: Path) -> float:
    """`rasa init --no-prompt` (creates and trains the stock bot); returns seconds taken."""
    directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    result = subprocess.run(
        [PYTHON, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(directory)],
        cwd=directory, env=base_env(), capture_output=True, text=True,
    )
    if result.returncode != 0 or not list((directory / "models").glob("*.tar.gz")):
        raise RuntimeError(f"rasa init failed in {directory}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return time.monotonic() - started


