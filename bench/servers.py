"""A uvicorn subprocess on a free loopback port, and a lean HTTP client, for the bench scripts."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from bench.report import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def uvicorn(
    app: str,
    env: dict[str, str],
    *,
    ready: Callable[[str], bool],
    factory: bool = False,
    timeout: float = 60,
) -> Iterator[tuple[str, int]]:
    """`app` under uvicorn (one worker); yields (base URL, pid) once `ready(base)` is true.

    `ready` may raise network or decoding errors while the server starts.
    """
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
               "--workers", "1", "--log-level", "warning", "--no-access-log"]
    if factory:
        command.append("--factory")
    proc = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{app} exited with {proc.returncode}")
            try:
                if ready(base):
                    break
            except (OSError, httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{app} did not become ready in {timeout:.0f} s")
            time.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


class KeepAlive:
    """GET requests over one kept-alive HTTP/1.1 connection, with as little client work as
    possible: for latency measures, where the client's own time is part of every number.

    httpx spends about 1.5 ms of Python on each request on this machine (measured against a
    cached endpoint answering in 0.33 ms over this client), which is the client, not the server.
    Only what uvicorn sends is handled: a status line, headers, and a Content-Length body.
    """

    def __init__(self, base: str, timeout: float = 30.0) -> None:
        url = urlsplit(base)
        self.host = url.netloc
        self.sock = socket.create_connection((url.hostname, url.port or 80), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def get(self, path: str) -> Reply:
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._receive()
        head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4 :]
        status_line, *lines = head.split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" not in headers:
            raise ValueError(f"no Content-Length in the response to {path}")
        length = int(headers["content-length"])
        while len(self.buffer) < length:
            self._receive()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Reply(int(status_line.split()[1]), headers, body)

    def _receive(self) -> None:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "KeepAlive":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
