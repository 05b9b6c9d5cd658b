"""Logging for `inkwell serve` and the CLI: every line carries the request's ID ("-" outside
a request), the same ID the client gets in `X-Request-ID`.

Given to uvicorn as its `log_config`, so each worker process applies it too.
"""

import copy
from typing import Any

from uvicorn.config import LOGGING_CONFIG

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
DEFAULT_FORMAT = "%(levelprefix)s [%(request_id)s] %(message)s"
ACCESS_FORMAT = '%(levelprefix)s [%(request_id)s] %(client_addr)s - "%(request_line)s" %(status_code)s'


def log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's logging configuration, plus request IDs and a handler for Inkwell's loggers."""
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"request_id": {"()": "api.middleware.RequestIdFilter"}}
    config["formatters"]["inkwell"] = {"format": FORMAT}
    config["formatters"]["default"]["fmt"] = DEFAULT_FORMAT
    config["formatters"]["access"]["fmt"] = ACCESS_FORMAT
    config["handlers"]["inkwell"] = {
        "class": "logging.StreamHandler", "formatter": "inkwell", "stream": "ext://sys.stderr",
    }
    for handler in config["handlers"].values():
        handler["filters"] = [*handler.get("filters", []), "request_id"]
    config["root"] = {"handlers": ["inkwell"], "level": level.upper()}
    return config
