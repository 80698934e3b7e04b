"""One ask-sdk request handler per supported directive, registered by ``(namespace, name)``."""

from __future__ import annotations

import logging
from typing import Any

from ask_sdk_runtime.dispatch_components import AbstractRequestHandler

from skill import bulbs, discovery
from skill.alexa import SUPPORTED, Kind, events, features_from_cookie, state_properties
from skill.alexa.directives import AcceptGrantPayload, DiscoverPayload
from skill.errors import (
    AcceptGrantFailed,
    InternalError,
    InvalidAuthorizationCredential,
    InvalidDirective,
    SkillError,
)
from skill.plugins import Adapter, Device, Style, decode_endpoint_id, encode_endpoint_id
from skill.ports import LwaError, PendingStore
from skill.records import DeviceOwner, QueuedDirective, TokenRecord
from skill.routing._dispatch import DirectiveInput, EntrypointServices

logger = logging.getLogger(__name__)

#: What ``estimatedDeferralInSeconds`` says per style: the typical time to the final answer.
ESTIMATED_DEFERRAL = {Style.SYNC: 2, Style.OPTIMISTIC: 2, Style.ASYNC: 4, Style.POLLING: 6}


class _Handler(AbstractRequestHandler):
    def can_handle(self, handler_input: DirectiveInput) -> bool:  # the mapper already chose
        return True


class AcceptGrantHandler(_Handler):
    """Identify the user, redeem the single-use grant code at once, keep the tokens."""

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
            user_id = discovery.identify_user(services.adapters, payload.grantee.token)
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
        logger.info("AcceptGrant: tokens stored for a user in region %s", services.region)
        return events.accept_grant_response()


class DiscoverHandler(_Handler):
    def handle(self, handler_input: DirectiveInput) -> dict[str, Any]:
        spec = SUPPORTED[handler_input.directive.key]
        payload: DiscoverPayload = spec.parse_payload(handler_input.directive)
        services = handler_input.services
        token = payload.scope.token
        found = discovery.devices(services.adapters, token, services.webhook_url_for)
        if services.owners is not None and found:
            _record_owners(services, services.owners, token, found)
        return events.discover_response(
            [discovery.discovery_endpoint(adapter, device) for adapter, device in found]
        )


def _record_owners(
    services: EntrypointServices,
    owners: PendingStore,
    token: str,
    found: list[tuple[Adapter, Device]],
) -> None:
    """Who owns each discovered bulb, before any command: a command whose user cannot be
    identified (the vendor is down, the container is new) falls back to the bulb's owner and
    still gets its ErrorResponse, and the sweep knows every discovered bulb. Best effort: a
    failure is logged and the discovery answered all the same."""
    try:
        user_id = discovery.identify_user(services.adapters, token, found[0][0].name)
        now = services.clock()
        added = owners.add_owners([
            DeviceOwner(endpoint_id=encode_endpoint_id(adapter.name, device.id), user_id=user_id,
                        vendor=adapter.name, features=device.features, vendor_token=token,
                        updated_at=now)
            for adapter, device in found
        ])
    except Exception as error:  # the vendor or DynamoDB failed: the owners come with commands
        logger.warning("Discover: bulb owners not recorded (%s)",
                       getattr(error, "alexa_type", type(error).__name__))
        return
    logger.info("Discover: %d of %d bulbs newly recorded", added, len(found))


def _endpoint_target(handler_input: DirectiveInput) -> tuple[Adapter, str, str, str]:
    """(adapter, device id, endpoint id, vendor token) of a directive addressed to a bulb."""
    endpoint = handler_input.directive.endpoint
    if endpoint is None:
        raise InvalidDirective("the directive has no endpoint")
    if endpoint.scope is None:
        raise InvalidAuthorizationCredential("the directive carries no token")
    vendor, device_id = decode_endpoint_id(endpoint.endpoint_id)
    adapter = handler_input.services.adapters.get(vendor)
    return adapter, device_id, endpoint.endpoint_id, endpoint.scope.token


class ReportStateHandler(_Handler):
    def handle(self, handler_input: DirectiveInput) -> dict[str, Any]:
        adapter, device_id, endpoint_id, token = _endpoint_target(handler_input)
        directive = handler_input.directive
        assert directive.endpoint is not None
        features = features_from_cookie(directive.endpoint.cookie)
        if features is None:
            features = discovery.find_device(adapter, token, device_id).features
        state = adapter.read_state(token, device_id)
        properties = state_properties(features, state, handler_input.services.clock())
        return events.state_report(directive.header.correlation_token, endpoint_id, properties)


class ControlHandler(_Handler):
    """Validate at once, store on the style's queue, answer DeferredResponse."""

    def handle(self, handler_input: DirectiveInput) -> dict[str, Any]:
        directive = handler_input.directive
        command = SUPPORTED[directive.key].command(directive)  # INVALID_VALUE / OUT_OF_RANGE
        adapter, _, _, _ = _endpoint_target(handler_input)
        assert directive.endpoint is not None
        features = features_from_cookie(directive.endpoint.cookie)
        bulbs.validate_command(command, features)
        services = handler_input.services
        queued = QueuedDirective(
            directive=handler_input.event["directive"],
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


def _handler_for(kind: Kind, key: tuple[str, str]) -> AbstractRequestHandler:
    if kind is Kind.CONTROL:
        return ControlHandler()
    return {
        ("Alexa.Authorization", "AcceptGrant"): AcceptGrantHandler,
        ("Alexa.Discovery", "Discover"): DiscoverHandler,
        ("Alexa", "ReportState"): ReportStateHandler,
    }[key]()


#: The handler of every supported directive, by ``(namespace, name)``.
HANDLERS: dict[tuple[str, str], AbstractRequestHandler] = {
    key: _handler_for(spec.kind, key) for key, spec in SUPPORTED.items()
}
