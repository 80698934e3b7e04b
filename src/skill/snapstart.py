"""Lambda SnapStart runtime hooks: prime a function before its snapshot, renew it after a restore.

With the stack parameter ``SnapStart=Enabled`` (docs/deploy.md, "SnapStart") Lambda initializes
a function when a version is published, runs the before-snapshot hooks, snapshots the memory and
starts later environments from that snapshot. Each handler module (``skill.handlers``) registers
its hooks at import, in one line: ``register(lambda: current().<its service>)``, with the boto3
clients it uses when they are not ``VENDOR_CALLER_CLIENTS``.

- Before the snapshot (``before_snapshot``): the boto3 clients the function uses are created
  (botocore's service models, most of a first client's cost, end up in the snapshot), the
  enabled adapters' modules are imported, and the function's services are built by
  ``skill.composition``: the same cached property its first invocation would read. No vendor
  is called and no secret or token is read: a value read into the snapshot could be rotated or
  revoked before a restore weeks later, so the secret, token and credential caches stay empty.
- After a restore (``after_restore``): what environments restored from one snapshot must not
  share is renewed. The ``random`` module is reseeded (else every restored environment draws
  the same sequence, e.g. the same retry jitter; ``uuid4`` and ``secrets`` read ``os.urandom``
  and need nothing), and ``skill.aws.reset`` drops the boto3 clients, their connections and the
  session's credentials, so that requests are signed with credentials fetched in this
  environment over connections it opened.

``snapshot_restore_py`` comes with Lambda's managed Python runtimes (3.12 and later); it is not
in our bundle on purpose: a bundled copy would come first on ``sys.path`` and take the hooks
that the runtime's own copy must run. Where it cannot be imported (tests, the local stack, the
bench) ``register`` does nothing. In a function without SnapStart the hooks are registered and
never run: its cold start is unchanged.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable

_log = logging.getLogger(__name__)

#: The clients of a function that calls vendors: its tables, the vault's key, the secrets, queues.
VENDOR_CALLER_CLIENTS = ("dynamodb", "kms", "secretsmanager", "sqs")
#: ``after_restore`` is registered once per process, however many handler modules register.
_after_restore_registered = False


def register(
    prime: Callable[[], object], *, clients: Iterable[str] = VENDOR_CALLER_CLIENTS
) -> bool:
    """Register ``before_snapshot(prime, clients)`` and ``after_restore`` with Lambda's runtime;
    False (and nothing registered) outside it."""
    global _after_restore_registered  # noqa: PLW0603 - registered once per container
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:  # not Lambda's Python runtime: no snapshot will be taken
        return False
    register_before_snapshot(before_snapshot, prime, tuple(clients))
    if not _after_restore_registered:
        register_after_restore(after_restore)
        _after_restore_registered = True
    return True


def before_snapshot(prime: Callable[[], object], clients: tuple[str, ...] = ()) -> bool:
    """Create ``clients``, import the enabled adapters and call ``prime``. True when all went
    well; a failure is logged and leaves the rest to the first invocation, as without SnapStart
    (priming saves time, it must never stop a version from being published)."""
    started = time.perf_counter()
    try:
        from skill.aws import client

        for service in clients:
            client(service)
        _import_adapters()
        prime()
    except Exception:  # noqa: BLE001 - whatever it was, the first invocation retries it
        _log.warning(
            "SnapStart priming failed; the first invocation builds the rest", exc_info=True
        )
        return False
    _log.info("SnapStart priming done in %.0f ms", (time.perf_counter() - started) * 1000)
    return True


def after_restore() -> None:
    """Renew what restored environments must not share (see the module's docstring)."""
    random.seed()  # from os.urandom
    from skill.aws import reset

    reset()


def _import_adapters() -> None:
    """Load the modules of the adapters this function enables (``ADAPTERS``, else every installed
    adapter): their code only. An adapter object is built at first use, when it may read its
    secrets."""
    from skill.config import settings
    from skill.plugins import installed_adapters

    available = installed_adapters()
    wanted = settings().enabled_adapters
    for name in wanted or list(available):
        if name in available:
            available[name].load()
