"""Lazily created, cached boto3 clients: a cold start pays only for the clients it uses.

boto3 honours ``AWS_ENDPOINT_URL`` (and per-service ``AWS_ENDPOINT_URL_SQS``...), so the same
code talks to AWS or to the local stack's moto server.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _session() -> Any:
    """One boto3 session per container: each new session re-reads botocore's data files
    (measured: ~190 ms of a processor's cold start, docs/benchmarks.md)."""
    import boto3

    return boto3.session.Session()


@cache
def client(service: str) -> Any:
    from botocore.config import Config

    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 3, "mode": "standard"},
        tcp_keepalive=True,
    )
    return _session().client(service, config=config)


@cache
def secrets_provider() -> Any:
    """Powertools' Secrets Manager provider (caching, transforms) on our shared client."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=client("secretsmanager"))


def get_json_secret(name: str, max_age: int = 300) -> Any:
    """A JSON secret, cached for ``max_age`` seconds by Powertools parameters."""
    return secrets_provider().get(name, transform="json", max_age=max_age)
