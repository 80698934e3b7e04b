"""An adapter author's vendor, staged: the kit's Acme adapter (a polling vendor the project does
not ship) runs in the local stack against its ``VendorStub`` on loopback, with vendor faults
injected there too (issue 17, "a local stage for any vendor")."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from bulb_skill_kit import LocalVendor
from bulb_workbench.local.stack import LocalStack, discover, set_brightness
from skill.plugins import _registry
from tests.unit.kit_acme import acme_stub


@pytest.fixture
def acme_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Acme adapter as if its package were installed (an entry point)."""
    installed = dict(_registry.installed_adapters())
    installed["acme"] = EntryPoint(
        name="acme", value="tests.unit.kit_acme:create", group=_registry.ENTRY_POINT_GROUP
    )
    monkeypatch.setattr(_registry, "installed_adapters", lambda: installed)


@pytest.mark.parametrize("faults", [None, "vendor=0.3"])
def test_a_staged_vendor_is_linked_discovered_and_commanded_end_to_end(acme_installed, faults):
    stub = acme_stub()
    with LocalStack(
        adapters="sim-sync,acme",
        stages={"acme": LocalVendor(stub)},
        pollers=True,
        faults=faults,
        pages=False,
    ) as stack:
        assert "acme" in stack.accounts.credentials.connected(stack.demo_user_id)
        token = stack.demo_token()
        stack.link_demo_user(token)
        answer = stack.invoke(discover(token))
        if faults is None:  # under faults a vendor may be left out of one Discover
            ids = {e["endpointId"] for e in answer["event"]["payload"]["endpoints"]}
            assert {"acme:lamp-1", "sim-sync:color-1"} <= ids, ids
        directive, correlation = set_brightness("acme:lamp-1", 35, token)
        assert stack.invoke(directive)["event"]["header"]["name"] == "DeferredResponse"
        [final] = [
            m
            for m in stack.wait_for_answer(correlation)  # exactly one answer
            if m["event"]["header"]["name"] in ("Response", "ErrorResponse")
        ]
        if faults is None:
            assert final["event"]["header"]["name"] == "Response"
            assert stub.states["lamp-1"]["level"] == 35  # type: ignore[attr-defined]
        else:  # a faulted vendor still gets its directive one answer
            assert stack.faults is not None and stack.faults.summary()
