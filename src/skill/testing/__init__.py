"""The adapter conformance kit: run the adapter contract's checks against your adapter.

Describe your adapter and how your (mocked) vendor answers in an ``AdapterScenario``, then
subclass ``AdapterConformance`` in a pytest module and give it that scenario as a fixture::

    import pytest
    from skill.plugins import ApiKey
    from skill.testing import AdapterConformance, AdapterScenario, Failure, responses_vendor

    class TestAcmeConformance(AdapterConformance):
        @pytest.fixture
        def scenario(self) -> AdapterScenario:
            return AdapterScenario(
                adapter=create(AdapterContext(vendor="acme", environ={"ACME_BASE_URL": BASE})),
                credential=ApiKey.of("good-key"), invalid_credential=ApiKey.of("bad-key"),
                color_device="bulb-1", white_device="bulb-2", unknown_device="bulb-9",
                vendor=responses_vendor(stage),  # stage(mock, call): register the answers
            )

The checks themselves are plain functions (no pytest needed to import this package); only
``AdapterConformance`` imports pytest, and only ``responses_vendor`` imports ``responses``.
See ``docs/adapters.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from skill.testing._checks import CHANGE_KINDS, EXPECTED_ERRORS, FAILURE_CASES, NotApplicable
from skill.testing._scenario import (
    STANDARD_FAILURES,
    AdapterScenario,
    Failure,
    Operation,
    VendorCall,
    VendorStage,
    no_stage,
    responses_vendor,
)

if TYPE_CHECKING:  # pragma: no cover
    from skill.testing._pytest import AdapterConformance

__all__ = [
    "CHANGE_KINDS",
    "EXPECTED_ERRORS",
    "FAILURE_CASES",
    "STANDARD_FAILURES",
    "AdapterConformance",
    "AdapterScenario",
    "Failure",
    "NotApplicable",
    "Operation",
    "VendorCall",
    "VendorStage",
    "no_stage",
    "responses_vendor",
]


def __getattr__(name: str) -> Any:
    # AdapterConformance needs pytest; import it only when asked for.
    if name == "AdapterConformance":
        from skill.testing._pytest import AdapterConformance

        return AdapterConformance
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
