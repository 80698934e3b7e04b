"""One ask-sdk request handler per supported directive, registered by ``(namespace, name)``."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

from skill import bulbs, discovery
from skill.alexa import SUPPORTED, Kind, events, features_from_cookie, state_properties
from skill.alexa.directives import AcceptGrantPayload, DiscoverPayload
from skill.credentials import CredentialUnavailable
from skill.errors import (
    AcceptGrantFailed,
    BridgeUnreachable,
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    InvalidDirective,
    NoSuchEndpoint,
    SkillError,
)
from skill.plugins import (
    Adapter,
    AnyCredential,
    Device,
    Style,
    credential_from_linking_token,
    decode_endpoint_id,
    encode_endpoint_id,
)
from skill.ports import IdentityError, LwaError, StateStore, VaultError
from skill.records import DeviceOwner, QueuedDirective, StoredCredential, SweepAccount, TokenRecord
from skill.routing._router import DirectiveHandler, DirectiveInput, EntrypointServices

logger = logging.getLogger(__name__)

#: What ``estimatedDeferralInSeconds`` says per style: the typical time to the final answer.
ESTIMATED_DEFERRAL = {Style.SYNC: 2, Style.OPTIMISTIC: 2, Style.ASYNC: 4, Style.POLLING: 6}


class _Handler(DirectiveHandler):
    def can_handle(self, handler_input: DirectiveInput) -> bool:  # the mapper already chose
        return True


def _user_of(handler_input: DirectiveInput, token: str | None) -> str:
    """The skill user the bearer token identifies; INVALID_AUTHORIZATION_CREDENTIAL when it
    identifies nobody. In ``vendor`` linking mode the token is that vendor's credential: it is
    kept in the vault (never on a queue) for the functions that call the vendor later."""
    services = handler_input.services
    try:
        user_id = services.identity.user_of(token)
    except IdentityError as error:
        raise InvalidAuthorizationCredential(f"the token identifies no user: {error}") from None
    if services.linking_vendor is not None and token:
        _keep_linking_token(services, services.linking_vendor, user_id, token)
    return user_id


def _keep_linking_token(
    services: EntrypointServices, vendor: str, user_id: str, token: str
) -> None:
    adapter = services.adapters.get(vendor)
    credential = credential_from_linking_token(adapter.credential_kind, token)
    try:
        stored = services.credentials.stored(user_id, vendor)
    except NoSuchEndpoint:
        stored = None
    except SkillError:
        raise InternalError("the credentials vault cannot be read") from None
    if stored is not None and stored.credential == credential:
        return
    try:
        services.credentials.vault.put(
            StoredCredential(
                user_id=user_id,
                vendor=vendor,
                credential=credential,
                account_id=user_id,
                version=stored.version if stored else 0,
            )
        )
    except Exception:
        logger.exception("vendor linking: the relayed credential could not be stored")
        raise InternalError("the credential could not be stored") from None
    services.credentials.forget(user_id, vendor)


def _credential_for(services: EntrypointServices, user_id: str, adapter: Adapter) -> AnyCredential:
    """The user's credential for this adapter's vendor; a vault that cannot be read is the
    skill's fault (INTERNAL_ERROR), not the vendor's."""
    try:
        return services.credentials.for_adapter(user_id, adapter)
    except CredentialUnavailable:
        raise InternalError("the credentials vault cannot be read") from None


class AcceptGrantHandler(_Handler):
    """Identify the user from the token alone, redeem the single-use grant code at once, keep
    the LWA tokens."""

    def handle(self, handler_input: DirectiveInput) -> dict[str, Any]:
        try:
            return self._accept(handler_input)
        except AcceptGrantFailed:
            raise
        except Exception:  # a store or network fault: still an Authorization answer
            logger.exception("AcceptGrant failed")
            raise AcceptGrantFailed("the grant could not be stored") from None

    def _accept(self, handler_input: DirectiveInput) -> dict[str, Any]:
        services = handler_input.services
        spec = SUPPORTED[handler_input.directive.key]
        try:
            payload: AcceptGrantPayload = spec.parse_payload(handler_input.directive)
            user_id = _user_of(handler_input, payload.grantee.token)
        except SkillError as error:
            raise AcceptGrantFailed(f"cannot identify the user: {error.message}") from None
        previous = services.tokens.get(user_id)
        pending = (previous or TokenRecord(user_id=user_id, region=services.region)).model_copy(
            update={"grant_code": payload.grant.code}
        )
        services.tokens.put(pending)  # storage first: the code is the only copy of the grant
        try:
            tokens = services.lwa.exchange(payload.grant.code)
        except LwaError as error:
            if not error.transient:  # a dead code: back to what the user had (a re-link that
                if previous is None:  # fails must not unlink a working user)
                    services.tokens.delete(user_id, if_unchanged=pending)
                else:
                    services.tokens.put(previous)
            logger.warning("AcceptGrant: LWA exchange failed (transient=%s)", error.transient)
            raise AcceptGrantFailed("Login with Amazon did not accept the grant") from None
        services.tokens.put(
            TokenRecord(
                user_id=user_id,
                region=services.region,
                access_token=tokens.access_token,
                refresh_token=tokens.refresh_token,
                expires_at=tokens.expires_at,
            )
        )
        try:  # a user who unlinked and comes back keeps the vendors they had connected
            services.credentials.vault.restore_user(user_id)
        except Exception as error:  # noqa: BLE001 - the grant still succeeds; logged
            logger.warning(
                "AcceptGrant: credentials' grace period not ended (%s)", type(error).__name__
            )
        logger.info("AcceptGrant: tokens stored for a user in region %s", services.region)
        return events.accept_grant_response()


class DiscoverHandler(_Handler):
    """The bulbs of the vendors the user has connected, each asked with its own credential."""

    def handle(self, handler_input: DirectiveInput) -> dict[str, Any]:
        spec = SUPPORTED[handler_input.directive.key]
        payload: DiscoverPayload = spec.parse_payload(handler_input.directive)
        services = handler_input.services
        user_id = _user_of(handler_input, payload.scope.token)
        try:
            connected = set(services.credentials.connected(user_id))
        except VaultError:
            raise InternalError("the credentials vault cannot be read") from None
        linked: list[discovery.Linked] = [
            (adapter, partial(_credential_for, services, user_id, adapter))
            for adapter in services.adapters.all()
            if adapter.name in connected
        ]
        found = discovery.devices(
            linked,
            services.webhook_url_for,
            refusal_is_error=services.linking_vendor is not None,
        )
        if services.owners is not None and found:
            _record_owners(services, services.owners, user_id, found)
        return events.discover_response(
            [discovery.discovery_endpoint(adapter, device) for adapter, device in found]
        )


def _record_owners(
    services: EntrypointServices,
    owners: StateStore,
    user_id: str,
    found: list[tuple[Adapter, Device]],
) -> None:
    """Who owns each discovered bulb, before any command: pushes and the sweep report changes
    to every user who owns the bulb. Best effort: a failure is logged and the discovery
    answered all the same."""
    try:
        now = services.clock()
        accounts = {
            a.name: services.credentials.stored(user_id, a.name).account_id for a, _ in found
        }
        added = owners.add_owners(
            [
                DeviceOwner(
                    endpoint_id=encode_endpoint_id(adapter.name, device.id),
                    user_id=user_id,
                    vendor=adapter.name,
                    features=device.features,
                    updated_at=now,
                    account_id=accounts[adapter.name],
                )
                for adapter, device in found
            ]
        )
        # the sweep reads each account from now on (its first read finds it push or not)
        devices = Counter(adapter.name for adapter, _ in found)
        for vendor, count in devices.items():
            owners.add_sweep_account(
                SweepAccount(
                    vendor=vendor, user_id=user_id, cadence=1, last_activity=now, devices=count
                )
            )
    except Exception as error:  # noqa: BLE001 - DynamoDB failed: the owners come with commands
        logger.warning("Discover: bulb owners not recorded (%s)", type(error).__name__)
        return
    logger.info("Discover: %d of %d bulbs newly recorded", added, len(found))


def _endpoint_target(handler_input: DirectiveInput) -> tuple[Adapter, str, str, str]:
    """(adapter, device id, endpoint id, user id) of a directive addressed to a bulb. The
    vendor comes from the endpoint id, and only a vendor the user connected is asked."""
    endpoint = handler_input.directive.endpoint
    if endpoint is None:
        raise InvalidDirective("the directive has no endpoint")
    if endpoint.scope is None:
        raise InvalidAuthorizationCredential("the directive carries no token")
    user_id = _user_of(handler_input, endpoint.scope.token)
    vendor, device_id = decode_endpoint_id(endpoint.endpoint_id)
    adapter = handler_input.services.adapters.get(vendor)
    return adapter, device_id, endpoint.endpoint_id, user_id


class ReportStateHandler(_Handler):
    """StateReport of every property, as the user was told it.

    - Within the window after a command's answer, the answered (expected) state stands until
      the vendor shows it: a certification run's "command, Response, ReportState at once" is
      never contradicted (``skill.bulbs.standing``).
    - A light dimmed off keeps reporting brightness 0 (``skill.bulbs.carry_zero``).
    - A bulb the vendor cannot reach: "If the endpoint is unreachable but you can report all
      endpoint property values because the values are cached, return the StateReport ... with
      connectivity UNREACHABLE; if you can't ... ErrorResponse ENDPOINT_UNREACHABLE or
      BRIDGE_UNREACHABLE" (Understand State and Change Reporting). The cached values are the
      owner record's, with their age as ``uncertaintyInMilliseconds``.
    """

    def handle(self, handler_input: DirectiveInput) -> dict[str, Any]:
        adapter, device_id, endpoint_id, user_id = _endpoint_target(handler_input)
        services = handler_input.services
        credential = _credential_for(services, user_id, adapter)
        directive = handler_input.directive
        assert directive.endpoint is not None
        owner = _owner_of(services, endpoint_id, user_id)
        features = features_from_cookie(directive.endpoint.cookie)
        if features is None and owner is not None:
            features = owner.features
        if features is None:
            features = discovery.find_device(adapter, credential, device_id).features
        correlation_token = directive.header.correlation_token
        try:
            actual = adapter.read_state(credential, device_id)
        except (EndpointUnreachable, BridgeUnreachable):
            if owner is None or owner.state is None:
                raise  # nothing cached: the error is the answer
            return _cached_state_report(services, correlation_token, endpoint_id, features, owner)
        now = services.clock()
        state = actual
        if owner is not None:
            state, _ = bulbs.standing(
                actual,
                last=owner.state,
                expected=owner.expected,
                expected_until=owner.expected_until,
                now=now,
            )
        return events.state_report(
            correlation_token, endpoint_id, state_properties(features, state, now)
        )


def _owner_of(services: EntrypointServices, endpoint_id: str, user_id: str) -> DeviceOwner | None:
    """The (bulb, user) owner record, best effort: without it ReportState reports the vendor's
    state alone (never an error for want of it)."""
    if services.owners is None:
        return None
    try:
        return services.owners.owner_of(endpoint_id, user_id)
    except Exception as error:  # noqa: BLE001 - DynamoDB down or not allowed: degrade
        logger.warning("ReportState: owner record not read (%s)", type(error).__name__)
        return None


def _cached_state_report(
    services: EntrypointServices,
    correlation_token: str | None,
    endpoint_id: str,
    features: Any,
    owner: DeviceOwner,
) -> dict[str, Any]:
    assert owner.state is not None
    now = services.clock()
    recorded = min(owner.updated_at or now, now)
    cached = owner.state.model_copy(update={"reachable": False})
    properties = state_properties(
        features,
        cached,
        recorded,
        uncertainty_ms=int((now - recorded) * 1000),
        health_sampled_at=now,
    )
    logger.info("ReportState: the vendor cannot reach the light; cached state reported")
    return events.state_report(correlation_token, endpoint_id, properties)


class ControlHandler(_Handler):
    """Validate at once, store on the style's queue, answer DeferredResponse."""

    def handle(self, handler_input: DirectiveInput) -> dict[str, Any]:
        directive = handler_input.directive
        command = SUPPORTED[directive.key].command(directive)  # INVALID_VALUE / OUT_OF_RANGE
        adapter, _, _, user_id = _endpoint_target(handler_input)
        services = handler_input.services
        try:
            connected = services.credentials.connected(user_id, cached=True)
        except VaultError:
            raise InternalError("the credentials vault cannot be read") from None
        if adapter.name not in connected:
            raise NoSuchEndpoint(f"the user has not connected {adapter.name}")
        assert directive.endpoint is not None
        features = features_from_cookie(directive.endpoint.cookie)
        bulbs.validate_command(command, features)
        queued = QueuedDirective.without_token(
            handler_input.event["directive"],
            user_id=user_id,
            received_at=handler_input.received_at,
            deadline=handler_input.received_at + services.deadline_seconds,
            features=features,
        )
        try:
            services.queue.enqueue(adapter.style, queued)
        except SkillError:
            raise  # a directive that cannot be stored: INVALID_DIRECTIVE, not "try again"
        except Exception:
            logger.exception("could not store the directive; answering INTERNAL_ERROR")
            raise InternalError("the directive could not be stored; please try again") from None
        estimate = ESTIMATED_DEFERRAL.get(adapter.style, 5)
        return events.deferred_response(directive.header.correlation_token, estimate)


def _handler_for(kind: Kind, key: tuple[str, str]) -> DirectiveHandler:
    if kind is Kind.CONTROL:
        return ControlHandler()
    others: dict[tuple[str, str], Callable[[], DirectiveHandler]] = {
        ("Alexa.Authorization", "AcceptGrant"): AcceptGrantHandler,
        ("Alexa.Discovery", "Discover"): DiscoverHandler,
        ("Alexa", "ReportState"): ReportStateHandler,
    }
    return others[key]()


#: The handler of every supported directive, by ``(namespace, name)``.
HANDLERS: dict[tuple[str, str], DirectiveHandler] = {
    key: _handler_for(spec.kind, key) for key, spec in SUPPORTED.items()
}
