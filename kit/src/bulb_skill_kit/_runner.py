"""Every conformance check as a list, and a runner that needs no pytest: ``run_checks`` gives
each check's outcome (passed, failed with its message, or not applicable with its reason).

Example, a simulator adapter against the running vendor simulator (no stage: the vendor is
real; it is not made to fail here, so the failure checks do not apply)::

    >>> import dataclasses
    >>> from bulb_workbench.local.sim_adapters import create_polling
    >>> from bulb_workbench.local.simulator import VendorSimulator
    >>> from skill.plugins import AdapterContext, ApiKey
    >>> with VendorSimulator(latency=0, transition=0) as sim:
    ...     context = AdapterContext(vendor="sim-polling", environ={"SIMULATOR_URL": sim.url})
    ...     scenario = AdapterScenario(
    ...         adapter=create_polling(context),
    ...         credential=sim.demo_credential("sim-polling"),
    ...         invalid_credential=ApiKey.of("revoked-key"),
    ...         color_device="color-1",
    ...         white_device="white-1",
    ...         unknown_device="bulb-999",
    ...         failures=(),
    ...     )
    ...     report = run_checks(scenario)
    ...     wrong = dataclasses.replace(scenario, white_device="color-1")  # it has colour
    ...     features = [check for check in CHECKS if "colour_bulb" in check.name]
    ...     wrong_report = run_checks(wrong, features)
    >>> print(report)
    19 passed, 0 failed, 36 not applicable
    >>> for result in wrong_report.failed:
    ...     print(result.name)
    ...     print(" ", result.message)
    test_colour_bulb_has_colour_and_white_bulb_has_none
      white_device 'color-1': features.color is True, expected False
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bulb_skill_kit import _checks
from bulb_skill_kit._checks import (
    ANSWER_OPERATIONS,
    CHANGE_KINDS,
    DEVICE_ROLES,
    FAILURE_CASES,
    NotApplicable,
)
from bulb_skill_kit._scenario import AdapterScenario


@dataclass(frozen=True, slots=True)
class Check:
    """One check: ``name`` is the ``AdapterConformance`` test it is (with its parameters)."""

    name: str
    function: Callable[..., None]
    args: tuple[Any, ...] = ()

    def __call__(self, scenario: AdapterScenario) -> None:
        self.function(scenario, *self.args)


def _checks_list() -> list[Check]:
    c = _checks
    checks = [
        Check("test_name_is_a_valid_vendor_key", c.name_is_a_vendor_key),
        Check("test_style_is_declared_and_the_protocol_is_complete", c.style_is_declared),
        Check(
            "test_is_installed_under_the_adapter_entry_point_group", c.installed_under_entry_point
        ),
        Check("test_identify_user_gives_a_stable_id_for_a_valid_credential", c.identifies_the_user),
        Check(
            "test_an_invalid_credential_is_invalid_authorization", c.refuses_an_invalid_credential
        ),
        Check(
            "test_a_credential_of_another_kind_is_refused_unsent",
            c.refuses_a_credential_of_another_kind,
        ),
        Check("test_devices_have_valid_unique_endpoint_ids", c.endpoint_ids_are_valid),
        Check(
            "test_discovery_response_validates_against_alexas_schema",
            c.discovery_is_valid_for_alexa,
        ),
        Check("test_device_names_are_1_to_128_characters", c.names_are_1_to_128_characters),
        Check("test_colour_temperature_ranges_lie_within_alexas", c.kelvin_ranges_are_alexa_ranges),
        Check(
            "test_colour_bulb_has_colour_and_white_bulb_has_none",
            c.features_match_the_named_devices,
        ),
        Check(
            "test_every_device_state_reads_as_a_valid_state_report",
            c.reads_the_state_of_every_device,
        ),
        Check(
            "test_reading_an_unknown_device_is_no_such_endpoint",
            c.unknown_device_is_no_such_endpoint,
        ),
        Check(
            "test_read_all_agrees_with_list_devices_and_read_state",
            c.read_all_agrees_with_list_and_read,
        ),
        Check(
            "test_declared_quotas_are_positive_and_name_their_source",
            c.declared_quotas_are_positive,
        ),
    ]
    checks += [
        Check(f"test_execute_answers_as_its_style_says[{kind}]", c.executes, (kind,))
        for kind in CHANGE_KINDS
    ]
    checks += [
        Check(
            f"test_users_see_each_command_converge_and_nothing_else_move[{role}]",
            c.users_see_each_command,
            (role,),
        )
        for role in DEVICE_ROLES
    ]
    checks += [
        Check(
            f"test_malformed_vendor_answers_raise_typed_errors[{op}]",
            c.malformed_answers_raise_typed_errors,
            (op,),
        )
        for op in ANSWER_OPERATIONS
    ]
    checks += [
        Check(
            f"test_vendor_failure_maps_to_its_typed_error[{op}-{failure}]",
            c.maps_vendor_failure,
            (op, failure),
        )
        for op, failure in FAILURE_CASES
    ]
    checks += [
        Check("test_genuine_push_gives_notifications_for_listed_devices", c.parses_a_genuine_push),
        Check("test_tampered_push_is_invalid_notification", c.refuses_a_tampered_push),
    ]
    return checks


#: Every check of the kit, as ``AdapterConformance`` runs them.
CHECKS: tuple[Check, ...] = tuple(_checks_list())


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    outcome: str  # "passed", "failed", "not applicable"
    message: str = ""


@dataclass
class Report:
    results: list[CheckResult] = field(default_factory=list)

    def _with(self, outcome: str) -> list[CheckResult]:
        return [r for r in self.results if r.outcome == outcome]

    @property
    def failed(self) -> list[CheckResult]:
        return self._with("failed")

    @property
    def passed(self) -> list[CheckResult]:
        return self._with("passed")

    @property
    def not_applicable(self) -> list[CheckResult]:
        return self._with("not applicable")

    def __str__(self) -> str:
        lines = [
            (
                f"{len(self.passed)} passed, {len(self.failed)} failed, "
                f"{len(self.not_applicable)} not applicable"
            )
        ]
        lines += [f"FAILED {r.name}: {r.message}" for r in self.failed]
        return "\n".join(lines)


def run_checks(
    scenario: AdapterScenario | Callable[[], AdapterScenario],
    checks: Iterable[Check] = CHECKS,
) -> Report:
    """Run ``checks`` (default: all) against the scenario. Give a callable to build a fresh
    scenario per check (a stateful stub then starts over each time, as with the pytest
    fixture)."""
    report = Report()
    for check in checks:
        current = scenario() if callable(scenario) else scenario
        try:
            check(current)
        except NotApplicable as reason:
            report.results.append(CheckResult(check.name, "not applicable", str(reason)))
        except AssertionError as failure:
            report.results.append(CheckResult(check.name, "failed", str(failure)))
        except Exception as error:  # noqa: BLE001 - a check that cannot run fails, saying why
            report.results.append(
                CheckResult(check.name, "failed", f"{type(error).__name__}: {error}")
            )
        else:
            report.results.append(CheckResult(check.name, "passed"))
    return report
