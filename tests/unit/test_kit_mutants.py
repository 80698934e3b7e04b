"""The conformance kit measured: deliberately broken adapters (mutants of the good reference in
``kit_acme``, one bug each) must each fail the kit, with a message that names the command or
property and shows the vendor answer that was staged. The good one must pass every check.

The set holds the bugs the Tuya trial adapter shipped past the old kit (wrong saturation scale on
an accept-only style, a property moved that was not asked for, a missing field read as off, an
identify that leaks part of the key, a ``KeyError`` on a malformed body, a request without a
timeout, a wrong error mapping) and a few more.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from bulb_skill_kit import AdapterConformance, AdapterScenario, Report, run_checks
from skill.bulbs import BulbState, Change
from skill.errors import EndpointUnreachable, InvalidAuthorizationCredential, SkillError
from skill.plugins import AdapterContext, AnyCredential, ApiKey
from tests.unit import kit_acme
from tests.unit.kit_acme import AcmeAdapter


def build(cls: type[AcmeAdapter]) -> AcmeAdapter:
    return cls(AdapterContext(vendor="acme", environ={}))


@functools.cache
def check(cls: type[AcmeAdapter]) -> Report:
    """Every check of the kit against ``cls``, each with a fresh stub (as the fixture would)."""
    return run_checks(lambda: kit_acme.scenario(build(cls)))


# -- the mutants -------------------------------------------------------------------------------


class WrongSaturationScale(AcmeAdapter):
    """Sends Alexa's 0-1 saturation where Acme wants 0-1000: the vendor takes the command, the
    bulb turns nearly white, and every check that only looks at what was sent passes."""

    @staticmethod
    def body(change: Change) -> dict[str, Any]:
        body = AcmeAdapter.body(change)
        if change.color is not None:
            body["sat"] = round(change.color.saturation, 3)
        return body


class MovesTheLevel(AcmeAdapter):
    """Switching to white also sends full brightness ("white at 100 %"): the user's level moves."""

    @staticmethod
    def body(change: Change) -> dict[str, Any]:
        body = AcmeAdapter.body(change)
        if change.color_temperature is not None:
            body["level"] = 100
        return body


class MissingPowerReadsOff(AcmeAdapter):
    """A state without ``power`` reads as off instead of unreadable."""

    def state(self, lamp: Any) -> BulbState:
        if isinstance(lamp, dict) and "power" not in lamp:
            return super().state({**lamp, "power": "off"})
        return super().state(lamp)


class AnythingButOffIsOn(AcmeAdapter):
    """Reads power as "not off": a power of another type reads as on (seen with the light off)."""

    def state(self, lamp: Any) -> BulbState:
        if isinstance(lamp, dict) and lamp.get("power") not in ("on", "off"):
            return super().state({**lamp, "power": "on"})
        return super().state(lamp)


class LeakyIdentify(AcmeAdapter):
    """No "who am I" call used: the account id is the key's first characters."""

    def identify_user(self, credential: AnyCredential) -> str:
        super().identify_user(credential)
        assert isinstance(credential, ApiKey)
        return f"acme-{credential.api_key.get_secret_value()[:10]}"


class KeyErrorOnMalformed(AcmeAdapter):
    """Reads the state with ``lamp["power"]`` and no guard: a malformed body is a KeyError."""

    def state(self, lamp: Any) -> BulbState:
        return BulbState(
            on=lamp["power"] == "on", brightness=lamp["level"], reachable=lamp.get("online", True)
        )


class NoTimeout(AcmeAdapter):
    """Calls Acme through a bare session: no timeout, so a silent vendor holds the function."""

    def call(self, method: str, path: str, credential: AnyCredential, body: Any = None) -> Any:
        if not isinstance(credential, ApiKey):
            raise InvalidAuthorizationCredential("Acme takes an API key")
        response = self.transport.session.request(
            method,
            f"{kit_acme.BASE}{path}",
            json=body,
            headers={"X-Acme-Key": credential.api_key.get_secret_value()},
        )
        if response.status_code >= 400:
            raise self.transport.error_for(response)
        return response.json()


class ThrottlingIsUnreachable(AcmeAdapter):
    """Maps 429 to EndpointUnreachable: the core retries at once instead of backing off the
    one credential, and Alexa hears "unreachable" for a busy account."""

    def error(self, response: requests.Response) -> SkillError | None:
        if response.status_code == 429:
            return EndpointUnreachable("Acme is busy")
        return super().error(response)


class KelvinAsMireds(AcmeAdapter):
    """Converts the colour temperature to mireds, which Acme does not take."""

    @staticmethod
    def body(change: Change) -> dict[str, Any]:
        body = AcmeAdapter.body(change)
        if change.color_temperature is not None:
            body["kelvin"] = round(1_000_000 / change.color_temperature)
        return body


class SendsAnyCredential(AcmeAdapter):
    """Takes the first secret of whatever credential it is handed: another vendor's is sent."""

    def call(self, method: str, path: str, credential: AnyCredential, body: Any = None) -> Any:
        secret = next(v for _, v in credential if hasattr(v, "get_secret_value"))
        return self.transport.json(
            method, path, json=body, headers={"X-Acme-Key": secret.get_secret_value()}
        )


class OfflineLampsDropped(AcmeAdapter):
    """Leaves offline lamps out of discovery: Alexa then deletes them from the user's home."""

    def list_devices(self, credential: AnyCredential) -> list:
        devices = super().list_devices(credential)
        online = []
        for device in devices:
            try:
                if self.read_state(credential, device.id).reachable:
                    online.append(device)
            except SkillError:
                pass
        return online


@dataclass(frozen=True)
class Mutant:
    adapter: type[AcmeAdapter]
    #: A check the mutant must fail (a name, or a prefix of one).
    caught_by: str
    #: Text the failure message must contain: what was asked (command / property) and the
    #: vendor answer that was staged.
    says: tuple[str, ...]


MUTANTS = {
    "wrong scale on an accept-only style": Mutant(
        WrongSaturationScale,
        "test_users_see_each_command_converge_and_nothing_else_move[color_device]",
        (
            "SetColor(hue 240",
            "color.saturation never converged",
            "expected 0.5",
            '"sat": 0.5',
            "POST /lamps/lamp-1/commands",
            "GET /lamps/lamp-1 -> 200",
        ),
    ),
    "a property moved that was not asked for": Mutant(
        MovesTheLevel,
        "test_users_see_each_command_converge_and_nothing_else_move[color_device]",
        (
            "SetColorTemperature(",
            "brightness moved, which the command did not ask for",
            "it was 40",
            '"level": 100',
        ),
    ),
    "a missing field read as off": Mutant(
        MissingPowerReadsOff,
        "test_malformed_vendor_answers_raise_typed_errors[read_state]",
        ("without power", "read the light as OFF", "the spoiled answer staged", '"level": 80'),
    ),
    "a mistyped field read as on": Mutant(
        AnythingButOffIsOn,
        "test_malformed_vendor_answers_raise_typed_errors[read_state]",
        (
            "read the light as ON, the whole answer says OFF",
            "the spoiled answer staged",
            "GET /lamps/lamp-1 -> 200",
        ),
    ),
    "an identify that leaks part of the credential": Mutant(
        LeakyIdentify,
        "test_identify_user_gives_a_stable_id_for_a_valid_credential",
        ("shows part of the credential", "GET /me -> 200", '"account": "acc_42"'),
    ),
    "a KeyError on a malformed body": Mutant(
        KeyErrorOnMalformed,
        "test_malformed_vendor_answers_raise_typed_errors[read_state]",
        ("raised KeyError", "the spoiled answer staged", "GET /lamps/lamp-1"),
    ),
    "a missing timeout": Mutant(
        NoTimeout,
        "test_identify_user_gives_a_stable_id_for_a_valid_credential",
        ("was sent without a timeout", "GET /me", '"account": "acc_42"'),
    ),
    "a wrong error mapping": Mutant(
        ThrottlingIsUnreachable,
        "test_vendor_failure_maps_to_its_typed_error[read_state-rate_limited]",
        ("expected RateLimited, got EndpointUnreachable", "-> 429", '"error": "slow down"'),
    ),
    "colour temperature on the wrong scale": Mutant(
        KelvinAsMireds,
        "test_users_see_each_command_converge_and_nothing_else_move[tunable_device]",
        ("SetColorTemperature(3966 K) on tunable device", '"kelvin": 252'),
    ),
    "another vendor's credential sent": Mutant(
        SendsAnyCredential,
        "test_a_credential_of_another_kind_is_refused_unsent",
        ("must not leave", "GET /me"),
    ),
    "offline lamps left out of discovery": Mutant(
        OfflineLampsDropped,
        "test_vendor_failure_maps_to_its_typed_error[list_devices-offline]",
        ("is offline, yet list_devices leaves it out", '"online": false'),
    ),
}


# -- the measurement ---------------------------------------------------------------------------


def test_the_good_adapter_passes_every_check() -> None:
    report = check(AcmeAdapter)
    assert report.failed == [], str(report)
    assert {r.name for r in report.not_applicable} == {
        "test_is_installed_under_the_adapter_entry_point_group",  # not installed: a test module
        "test_genuine_push_gives_notifications_for_listed_devices",  # polling: no pushes
        "test_tampered_push_is_invalid_notification",
        "test_read_all_agrees_with_list_devices_and_read_state",  # Acme lists no states
    }


@pytest.mark.parametrize("bug", sorted(MUTANTS))
def test_the_kit_catches_the_mutant_and_says_where(bug: str) -> None:
    mutant = MUTANTS[bug]
    report = check(mutant.adapter)
    failed = {r.name: r.message for r in report.failed}
    assert failed, f"the kit let {mutant.adapter.__name__} ({bug}) pass"
    matching = [name for name in failed if name.startswith(mutant.caught_by)]
    assert matching, f"{bug}: expected {mutant.caught_by} to fail; failed: {sorted(failed)}"
    message = failed[matching[0]]
    missing = [text for text in mutant.says if text not in message]
    assert not missing, f"{bug}: the message lacks {missing}:\n{message}"


def test_the_kit_catches_every_mutant() -> None:
    """The kit's score: every mutant caught (a survivor is a hole in the kit)."""
    survivors = [bug for bug, mutant in MUTANTS.items() if not check(mutant.adapter).failed]
    assert survivors == [], f"mutants the kit lets pass: {survivors}"
    assert len(MUTANTS) >= 7


def test_without_a_stateful_vendor_the_command_loop_says_why_it_cannot_run() -> None:
    report = run_checks(lambda: kit_acme.scenario(build(WrongSaturationScale), stateful=False))
    skipped = {r.name: r.message for r in report.not_applicable}
    reason = skipped["test_users_see_each_command_converge_and_nothing_else_move[color_device]"]
    assert "keeps no state" in reason and "VendorStub" in reason


# -- the pytest layer over the same reference ------------------------------------------------


class TestTheReferenceAdapterConforms(AdapterConformance):
    @pytest.fixture
    def scenario(self) -> AdapterScenario:
        return kit_acme.scenario()


def test_every_check_is_a_test_of_the_pytest_class() -> None:
    from bulb_skill_kit import CHECKS

    methods = {name for name in dir(AdapterConformance) if name.startswith("test_")}
    assert {c.name.split("[")[0] for c in CHECKS} == methods
