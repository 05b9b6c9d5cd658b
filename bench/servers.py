"""A uvicorn subprocess on a free loopback port, for the bench scripts."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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
