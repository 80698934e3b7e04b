"""The adapter conformance kit: run the adapter contract's checks against your adapter, and try
it against a vendor stub on loopback.

Describe your adapter and how your (mocked) vendor answers in an ``AdapterScenario``, then
subclass ``AdapterConformance`` in a pytest module and give it that scenario as a fixture::

    import pytest
    from skill.plugins import ApiKey
    from bulb_skill_kit import AdapterConformance, AdapterScenario, Failure, responses_vendor

    class TestAcmeConformance(AdapterConformance):
        @pytest.fixture
        def scenario(self) -> AdapterScenario:
            return AdapterScenario(
                adapter=create(AdapterContext(vendor="acme", environ={"ACME_BASE_URL": BASE})),
                credential=ApiKey.of("good-key"), invalid_credential=ApiKey.of("bad-key"),
                color_device="bulb-1", white_device="bulb-2", unknown_device="bulb-9",
                vendor=acme_stub().responses_vendor(BASE, fail=fail),  # or responses_vendor(stage)
                stateful=True,  # the stub remembers commands: the kit checks what users see
            )

``VendorStub`` is a vendor made of your handlers; the same stub serves the kit (through
``responses``) and a local run (``LocalVendor``, or ``python -m bulb_skill_kit serve
module:stub``). ``run_checks(scenario)`` runs every check without pytest.

The checks themselves are plain functions (no pytest needed to import this package); only
``AdapterConformance`` imports pytest, and only ``responses_vendor`` imports ``responses``.
See ``docs/adapters.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bulb_skill_kit._checks import (
    ANSWER_OPERATIONS,
    CHANGE_KINDS,
    DEVICE_ROLES,
    EXPECTED_ERRORS,
    FAILURE_CASES,
    NotApplicable,
    command_script,
    leaked_part,
)
from bulb_skill_kit._runner import CHECKS, Check, CheckResult, Report, run_checks
from bulb_skill_kit._scenario import (
    STANDARD_FAILURES,
    AdapterScenario,
    Failure,
    Operation,
    Spoiler,
    VendorCall,
    VendorStage,
    no_stage,
    responses_vendor,
)
from bulb_skill_kit._stage import LocalVendor, StubAnswer, StubExchange, StubRequest, VendorStub

if TYPE_CHECKING:  # pragma: no cover
    from bulb_skill_kit._pytest import AdapterConformance

__all__ = [
    "ANSWER_OPERATIONS",
    "CHANGE_KINDS",
    "CHECKS",
    "DEVICE_ROLES",
    "EXPECTED_ERRORS",
    "FAILURE_CASES",
    "STANDARD_FAILURES",
    "AdapterConformance",
    "AdapterScenario",
    "Check",
    "CheckResult",
    "Failure",
    "LocalVendor",
    "NotApplicable",
    "Operation",
    "Report",
    "Spoiler",
    "StubAnswer",
    "StubExchange",
    "StubRequest",
    "VendorCall",
    "VendorStage",
    "VendorStub",
    "command_script",
    "leaked_part",
    "no_stage",
    "responses_vendor",
    "run_checks",
]


def __getattr__(name: str) -> Any:
    # AdapterConformance needs pytest; import it only when asked for.
    if name == "AdapterConformance":
        from bulb_skill_kit._pytest import AdapterConformance

        return AdapterConformance
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
