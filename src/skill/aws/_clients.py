"""Lazily created, cached boto3 clients: a cold start pays only for the clients it uses.

boto3 honours ``AWS_ENDPOINT_URL`` (and per-service ``AWS_ENDPOINT_URL_SQS``...), so the same
code talks to AWS or to the local stack's moto server.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any


@cache
def _session() -> Any:
    """One boto3 session per container: each new session re-reads botocore's data files
    (measured: ~190 ms of a processor's cold start, docs/benchmarks.md)."""
    import boto3

    return boto3.session.Session()


#: Every client ``client`` made, for ``reset`` (``functools.cache`` does not list its values).
_made: list[Any] = []


#: Threads (the sweep's pool) may ask for a client at the same moment: ``functools.cache`` would
#: let each of them build one, and building one costs tens of ms of a cold start.
_lock = threading.Lock()


@cache
def client(service: str) -> Any:
    with _lock:
        return _build_client(service)


@cache
def _build_client(service: str) -> Any:
    from botocore.config import Config

    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 3, "mode": "standard"},
        tcp_keepalive=True,
    )
    made = _session().client(service, config=config)
    _made.append(made)
    return made


def forget_clients() -> None:
    """Clients made from now on are new ones (another region's, another test's)."""
    client.cache_clear()
    _build_client.cache_clear()


def reset(*, session: bool = False) -> None:
    """Forget the cached clients, closing their pooled connections, and the session's resolved
    credentials: clients made afterwards fetch credentials and open connections anew. For a
    SnapStart restore (``skill.snapstart``). The session itself is kept: its loaded service
    models are what makes a new client cheap (a few ms instead of tens). ``session``: a new
    session too, as a new container has (its region and configuration read again: tests)."""
    for made in _made:
        made.close()  # a client kept elsewhere still works: it opens a new connection pool
    _made.clear()
    forget_clients()
    secrets_provider.cache_clear()
    if session:
        _session.cache_clear()
    elif _session.cache_info().currsize:
        core = _session()._session
        # botocore keeps a session's resolved credentials here and has no public way to drop them
        if hasattr(core, "_credentials"):
            core._credentials = None


@cache
def secrets_provider() -> Any:
    """Powertools' Secrets Manager provider (caching, transforms) on our shared client."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=client("secretsmanager"))


def get_json_secret(name: str, max_age: int = 300) -> Any:
    """A JSON secret, cached for ``max_age`` seconds by Powertools parameters."""
    return secrets_provider().get(name, transform="json", max_age=max_age)
