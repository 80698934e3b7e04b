"""``python -m bulb_skill_kit serve MODULE:STUB``: serve an adapter author's vendor stub on
loopback (a local stage for the adapter), until interrupted.

``STUB`` is a ``bulb_skill_kit.VendorStub``, or a callable without arguments returning one (a
factory gives a fresh state at each start). One JSON line on stdout says where it is and what to
set::

    $ python -m bulb_skill_kit serve tests.acme_stub:acme_stub --vendor acme --port 8800
    {"vendor": "acme", "url": "http://127.0.0.1:8800", "setting": "ACME_BASE_URL=http://127.0.0.1:8800",
     "credential_kind": "oauth"}

Then point the adapter at it (``ACME_BASE_URL=...`` for a run, or the adapter's own tests).
Given the real vendor's base URL instead (``serve https://api.acme.example/v1 --vendor acme``),
it forwards every request there. ``--faults vendor=0.2`` injects the local
stack's faults (timeouts, resets, 5xx, 429, malformed bodies) into a share of its answers.
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from bulb_skill_kit._stage import LocalVendor, VendorStub
from skill.plugins._contract import setting_prefix


def load_stub(spec: str) -> VendorStub:
    """``module:attribute`` -> the ``VendorStub`` it names (calling a factory)."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"expected MODULE:STUB (e.g. tests.acme_stub:acme_stub), got {spec!r}")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    if not isinstance(target, VendorStub) and callable(target):
        target = target()
    if not isinstance(target, VendorStub):
        raise ValueError(f"{spec} is not a bulb_skill_kit.VendorStub (nor a factory of one)")
    return target


def serve(
    spec: str,
    *,
    vendor: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: str | None = None,
    seed: int = 0,
    out: TextIO = sys.stdout,
    stop: threading.Event | None = None,
) -> int:
    if spec.startswith(("http://", "https://")):
        if not vendor:
            raise ValueError("forwarding to a vendor's URL needs --vendor NAME")
        stub = VendorStub.forwarding(vendor, spec)
    else:
        stub = load_stub(spec)
    name = vendor or stub.name
    stop = stop or threading.Event()
    with LocalVendor(stub, host=host, port=port) as local:
        injected = None
        if faults:
            from bulb_workbench.local.faults import FaultProfile, install

            injected = install(FaultProfile.parse(faults, seed=seed), simulator=local)
        credential = stub.demo_credential
        out.write(
            json.dumps(
                {
                    "vendor": name,
                    "url": local.url,
                    "setting": f"{setting_prefix(name)}_BASE_URL={local.url}",
                    "credential_kind": str(credential.kind) if credential is not None else None,
                    "faults": str(injected.profile) if injected else "none",
                }
            )
            + "\n"
        )
        out.flush()
        try:
            stop.wait()
        finally:
            if injected is not None:
                injected.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bulb_skill_kit", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve a VendorStub on loopback until interrupted")
    run.add_argument(
        "stub",
        help="MODULE:STUB (a VendorStub or a factory of one), or the real "
        "vendor's base URL to forward to (with --vendor)",
    )
    run.add_argument("--vendor", help="the adapter name (default: the stub's name)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=0, help="0: any free port (default)")
    run.add_argument("--faults", help="a fault profile for the stub's answers, e.g. vendor=0.2")
    run.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        return serve(
            args.stub,
            vendor=args.vendor,
            host=args.host,
            port=args.port,
            faults=args.faults,
            seed=args.seed,
            stop=stop,
        )
    except (ImportError, AttributeError, ValueError) as exc:
        print(f"python -m bulb_skill_kit serve: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
