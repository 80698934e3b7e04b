"""Builders for every message the skill sends to Alexa, synchronously or through the gateway.

Each returns a plain dict ready for ``json.dumps``; the tests validate every one against the
official Smart Home message schema.

Example::

    >>> from skill.alexa.capabilities import state_properties
    >>> from skill.bulbs import BulbState, Features
    >>> state = BulbState(on=True, brightness=40)
    >>> properties = state_properties(Features(dimmable=True), state, sampled_at=0.0)
    >>> message = response("c-1", "lifx:d1", properties)
    >>> message["event"]["header"]["name"], message["event"]["endpoint"]
    ('Response', {'endpointId': 'lifx:d1'})
    >>> [(p["name"], p["value"]) for p in message["context"]["properties"]]
    [('powerState', 'ON'), ('brightness', 40), ('connectivity', {'value': 'OK'})]
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from skill.errors import SkillError

PAYLOAD_VERSION = "3"


def _header(namespace: str, name: str, correlation_token: str | None = None) -> dict[str, Any]:
    header = {
        "namespace": namespace,
        "name": name,
        "payloadVersion": PAYLOAD_VERSION,
        "messageId": str(uuid.uuid4()),
    }
    if correlation_token:
        header["correlationToken"] = correlation_token
    return header


def _endpoint(endpoint_id: str | None, scope_token: str | None) -> dict[str, Any] | None:
    if endpoint_id is None:
        return None
    endpoint: dict[str, Any] = {"endpointId": endpoint_id}
    if scope_token:
        endpoint["scope"] = {"type": "BearerToken", "token": scope_token}
    return endpoint


def _event(
    header: dict[str, Any],
    payload: dict[str, Any],
    *,
    endpoint: dict[str, Any] | None = None,
    properties: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {"header": header}
    if endpoint is not None:
        event["endpoint"] = endpoint
    event["payload"] = payload
    message: dict[str, Any] = {"event": event}
    if properties is not None:
        message = {"context": {"properties": list(properties)}, **message}
    return message


def response(
    correlation_token: str | None,
    endpoint_id: str,
    properties: Sequence[dict[str, Any]],
    *,
    scope_token: str | None = None,
) -> dict[str, Any]:
    """``Alexa.Response`` with the endpoint's properties in the context."""
    return _event(
        _header("Alexa", "Response", correlation_token),
        {},
        endpoint=_endpoint(endpoint_id, scope_token),
        properties=properties,
    )


def state_report(
    correlation_token: str | None, endpoint_id: str, properties: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    return _event(
        _header("Alexa", "StateReport", correlation_token),
        {},
        endpoint=_endpoint(endpoint_id, None),
        properties=properties,
    )


def deferred_response(correlation_token: str | None, estimated_seconds: int) -> dict[str, Any]:
    return _event(
        _header("Alexa", "DeferredResponse", correlation_token),
        {"estimatedDeferralInSeconds": int(estimated_seconds)},
    )


def error_response(
    error: SkillError,
    correlation_token: str | None = None,
    endpoint_id: str | None = None,
    *,
    scope_token: str | None = None,
) -> dict[str, Any]:
    """The one place a typed error becomes an ``ErrorResponse``, namespace and payload kept."""
    return _event(
        _header(error.namespace, "ErrorResponse", correlation_token),
        error.payload(),
        endpoint=_endpoint(endpoint_id, scope_token),
    )


def accept_grant_response() -> dict[str, Any]:
    return _event(_header("Alexa.Authorization", "AcceptGrant.Response"), {})


def discover_response(endpoints: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return _event(_header("Alexa.Discovery", "Discover.Response"), {"endpoints": list(endpoints)})


def change_report(
    endpoint_id: str,
    changed: Sequence[dict[str, Any]],
    unchanged: Sequence[dict[str, Any]],
    *,
    cause: str = "PHYSICAL_INTERACTION",
    scope_token: str | None = None,
) -> dict[str, Any]:
    """``ChangeReport``: what changed in the payload, everything else in the context."""
    return _event(
        _header("Alexa", "ChangeReport"),
        {"change": {"cause": {"type": cause}, "properties": list(changed)}},
        endpoint=_endpoint(endpoint_id, scope_token),
        properties=unchanged,
    )


def add_or_update_report(endpoints: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``AddOrUpdateReport``; the dispatcher adds the user's token (``with_scope``)."""
    return _event(_header("Alexa.Discovery", "AddOrUpdateReport"), {"endpoints": list(endpoints)})


def delete_report(endpoint_ids: Sequence[str]) -> dict[str, Any]:
    """``DeleteReport``; the dispatcher adds the user's token (``with_scope``)."""
    return _event(
        _header("Alexa.Discovery", "DeleteReport"),
        {"endpoints": [{"endpointId": endpoint_id} for endpoint_id in endpoint_ids]},
    )


def with_scope(message: dict[str, Any], token: str) -> dict[str, Any]:
    """A copy of a gateway event carrying the user's LWA token where Alexa looks for it:
    ``payload.scope`` for discovery reports, ``endpoint.scope`` for everything else."""
    event = dict(message["event"])
    scope = {"type": "BearerToken", "token": token}
    if event["header"]["namespace"] == "Alexa.Discovery":
        event["payload"] = {**event["payload"], "scope": scope}
    else:
        event["endpoint"] = {**event["endpoint"], "scope": scope}
    return {**message, "event": event}


def without_scope(message: dict[str, Any]) -> dict[str, Any]:
    """A copy with any token removed, for logs and records."""
    event = dict(message["event"])
    if "scope" in event.get("payload", {}):
        event["payload"] = {k: v for k, v in event["payload"].items() if k != "scope"}
    if "scope" in event.get("endpoint", {}):
        event["endpoint"] = {k: v for k, v in event["endpoint"].items() if k != "scope"}
    return {**message, "event": event}


def discovery_endpoint(
    endpoint_id: str,
    *,
    friendly_name: str,
    description: str,
    manufacturer: str,
    cookie: dict[str, str],
    capabilities: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """One endpoint of a Discover.Response or AddOrUpdateReport (names cut to Alexa's 128)."""
    return {
        "endpointId": endpoint_id,
        "manufacturerName": (manufacturer or "Unknown")[:128],
        "friendlyName": (friendly_name or endpoint_id)[:128],
        "description": (description or "Light")[:128],
        "displayCategories": ["LIGHT"],
        "cookie": cookie,
        "capabilities": list(capabilities),
    }
