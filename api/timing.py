"""`Server-Timing` response headers: where a request's time went, for frontends and benchmarks.

Every response gets `app;dur=` (milliseconds from the request reaching the app to its
response starting, set by RequestContextMiddleware); search and related posts add their
own parts (`index`, the search library; `db`, the post summaries). Browser dev tools show
them next to the network timings, and `bench/search_http.py` splits its latencies with them.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Timings:
    """Named durations of one request, in the order they were measured."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, float]] = []

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def add(self, name: str, seconds: float) -> None:
        self.parts.append((name, seconds))

    def header(self) -> str:
        return header(self.parts)


def header(parts: list[tuple[str, float]]) -> str:
    """`name;dur=ms, ...`, a name measured twice added up into one entry."""
    total: dict[str, float] = {}
    for name, seconds in parts:
        total[name] = total.get(name, 0.0) + seconds
    return ", ".join(f"{name};dur={seconds * 1000:.2f}" for name, seconds in total.items())


def parse(value: str) -> dict[str, float]:
    """{name: milliseconds} of a `Server-Timing` header (entries without `dur` are left out)."""
    out: dict[str, float] = {}
    for entry in value.split(","):
        name, *params = (p.strip() for p in entry.split(";"))
        for param in params:
            key, _, number = param.partition("=")
            if key.strip() == "dur" and name:
                try:
                    out[name] = float(number.strip().strip('"'))
                except ValueError:
                    pass
    return out
