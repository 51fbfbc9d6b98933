"""Start the real service for a benchmark: uvicorn in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def studyhub(args: list[str], env: dict[str, str], cwd: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "studyhub", *args],
        env={**os.environ, **env},
        cwd=cwd,
        check=True,
        stdout=subprocess.DEVNULL,
    )


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    startup_seconds: float


def _wait_ready(url: str, path: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}{path}", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.01)


@contextmanager
def run_server(
    command: list[str], env: dict[str, str], cwd: Path, ready_path: str = "/health"
) -> Iterator[Server]:
    """Start a server process on a free port; `startup_seconds` is the time until `ready_path`
    first answers 200."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, ready_path, process)
        yield Server(url, process, time.perf_counter() - started)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def studyhub_command(workers: int = 1) -> list[str]:
    return [sys.executable, "-m", "studyhub", "serve", "--workers", str(workers)]


@contextmanager
def serve(env: dict[str, str], cwd: Path, workers: int = 1) -> Iterator[str]:
    with run_server(studyhub_command(workers), env, cwd) as server:
        yield server.url
