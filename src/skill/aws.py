"""Lazily created, cached boto3 clients: a cold start pays only for the clients it uses.

boto3 honours ``AWS_ENDPOINT_URL`` (and per-service ``AWS_ENDPOINT_URL_SQS``...), so the same
code talks to AWS or to the local stack's moto server.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 3, "mode": "standard"},
        tcp_keepalive=True,
    )
    return boto3.session.Session().client(service, config=config)  # type: ignore[call-overload]
