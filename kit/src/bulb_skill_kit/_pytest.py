"""``AdapterConformance``: the checks as pytest tests. The only module of the kit importing pytest.

Subclass it in a ``Test...`` class and give it a ``scenario`` fixture; every test below runs
against your adapter. A check the scenario does not cover is skipped with its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from bulb_skill_kit import _checks
from bulb_skill_kit._checks import (
    ANSWER_OPERATIONS,
    CHANGE_KINDS,
    DEVICE_ROLES,
    FAILURE_CASES,
    NotApplicable,
)
from bulb_skill_kit._scenario import AdapterScenario, Failure, Operation


@contextmanager
def _skip_when_not_applicable() -> Iterator[None]:
    try:
        yield
    except NotApplicable as reason:
        pytest.skip(str(reason))


def _run(check: Callable[..., None], *args: object) -> None:
    with _skip_when_not_applicable():
        check(*args)


class AdapterConformance:
    """The adapter contract as tests. Provide ``scenario`` (an ``AdapterScenario``).

    Example (tests/unit/test_conformance_sim.py runs such a class against the simulator)::

        >>> import pytest
        >>> from bulb_skill_kit import CHECKS, AdapterConformance, AdapterScenario
        >>> from bulb_workbench.local.sim_adapters import create_polling
        >>> from skill.plugins import AdapterContext, ApiKey
        >>> class TestSimPollingConformance(AdapterConformance):
        ...     @pytest.fixture
        ...     def scenario(self) -> AdapterScenario:
        ...         return AdapterScenario(
        ...             adapter=create_polling(AdapterContext(vendor="sim-polling")),
        ...             credential=ApiKey.of("demo-sim-polling-credential"),
        ...             invalid_credential=ApiKey.of("revoked-key"),
        ...             color_device="color-1",
        ...             white_device="white-1",
        ...             failures=(),  # nothing makes the simulator fail: those checks skip
        ...         )
        >>> tests = {name for name in dir(TestSimPollingConformance) if name.startswith("test_")}
        >>> len(tests), tests == {check.name.partition("[")[0] for check in CHECKS}
        (21, True)
    """

    # identity ----------------------------------------------------------------------------------

    def test_name_is_a_valid_vendor_key(self, scenario: AdapterScenario) -> None:
        _run(_checks.name_is_a_vendor_key, scenario)

    def test_style_is_declared_and_the_protocol_is_complete(
        self, scenario: AdapterScenario
    ) -> None:
        _run(_checks.style_is_declared, scenario)

    def test_is_installed_under_the_adapter_entry_point_group(
        self, scenario: AdapterScenario
    ) -> None:
        _run(_checks.installed_under_entry_point, scenario)

    def test_identify_user_gives_a_stable_id_for_a_valid_credential(
        self, scenario: AdapterScenario
    ) -> None:
        _run(_checks.identifies_the_user, scenario)

    def test_an_invalid_credential_is_invalid_authorization(
        self, scenario: AdapterScenario
    ) -> None:
        _run(_checks.refuses_an_invalid_credential, scenario)

    def test_a_credential_of_another_kind_is_refused_unsent(
        self, scenario: AdapterScenario
    ) -> None:
        _run(_checks.refuses_a_credential_of_another_kind, scenario)

    # discovery ---------------------------------------------------------------------------------

    def test_devices_have_valid_unique_endpoint_ids(self, scenario: AdapterScenario) -> None:
        _run(_checks.endpoint_ids_are_valid, scenario)

    def test_discovery_response_validates_against_alexas_schema(
        self, scenario: AdapterScenario
    ) -> None:
        _run(_checks.discovery_is_valid_for_alexa, scenario)

    def test_device_names_are_1_to_128_characters(self, scenario: AdapterScenario) -> None:
        _run(_checks.names_are_1_to_128_characters, scenario)

    def test_colour_temperature_ranges_lie_within_alexas(self, scenario: AdapterScenario) -> None:
        _run(_checks.kelvin_ranges_are_alexa_ranges, scenario)

    def test_colour_bulb_has_colour_and_white_bulb_has_none(
        self, scenario: AdapterScenario
    ) -> None:
        _run(_checks.features_match_the_named_devices, scenario)

    # state -------------------------------------------------------------------------------------

    def test_every_device_state_reads_as_a_valid_state_report(
        self, scenario: AdapterScenario
    ) -> None:
        _run(_checks.reads_the_state_of_every_device, scenario)

    def test_reading_an_unknown_device_is_no_such_endpoint(self, scenario: AdapterScenario) -> None:
        _run(_checks.unknown_device_is_no_such_endpoint, scenario)

    # the sweep ---------------------------------------------------------------------------------

    def test_read_all_agrees_with_list_devices_and_read_state(
        self, scenario: AdapterScenario
    ) -> None:
        _run(_checks.read_all_agrees_with_list_and_read, scenario)

    def test_declared_quotas_are_positive_and_name_their_source(
        self, scenario: AdapterScenario
    ) -> None:
        _run(_checks.declared_quotas_are_positive, scenario)

    # commands ----------------------------------------------------------------------------------

    @pytest.mark.parametrize("kind", CHANGE_KINDS)
    def test_execute_answers_as_its_style_says(self, scenario: AdapterScenario, kind: str) -> None:
        _run(_checks.executes, scenario, kind)

    # what users see ------------------------------------------------------------------------

    @pytest.mark.parametrize("role", DEVICE_ROLES)
    def test_users_see_each_command_converge_and_nothing_else_move(
        self, scenario: AdapterScenario, role: str
    ) -> None:
        _run(_checks.users_see_each_command, scenario, role)

    @pytest.mark.parametrize("operation", ANSWER_OPERATIONS)
    def test_malformed_vendor_answers_raise_typed_errors(
        self, scenario: AdapterScenario, operation: Operation
    ) -> None:
        _run(_checks.malformed_answers_raise_typed_errors, scenario, operation)

    # failures ------------------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("operation", "failure"),
        FAILURE_CASES,
        ids=[f"{operation}-{failure}" for operation, failure in FAILURE_CASES],
    )
    def test_vendor_failure_maps_to_its_typed_error(
        self, scenario: AdapterScenario, operation: Operation, failure: Failure
    ) -> None:
        _run(_checks.maps_vendor_failure, scenario, operation, failure)

    # push --------------------------------------------------------------------------------------

    def test_genuine_push_gives_notifications_for_listed_devices(
        self, scenario: AdapterScenario
    ) -> None:
        _run(_checks.parses_a_genuine_push, scenario)

    def test_tampered_push_is_invalid_notification(self, scenario: AdapterScenario) -> None:
        _run(_checks.refuses_a_tampered_push, scenario)
