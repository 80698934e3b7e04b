"""The vendor adapter plugin contract, the registry of installed adapters, and endpoint ids.

An adapter is an installable package that registers a factory under the entry-point group
``bulb_skill.adapters``; see ``docs/adapters.md``.
"""

from typing import TYPE_CHECKING, Any

from skill.plugins._contract import (
    NO_QUOTAS,
    Accepted,
    Adapter,
    AdapterContext,
    AdapterFactory,
    AnyCredential,
    CredentialRefresher,
    Device,
    DeviceReading,
    Notification,
    OAuthLinker,
    PushAdapter,
    SingleWebhookVendor,
    StateLister,
    Style,
    VendorQuotas,
    WebhookRegistrar,
    WebhookRequest,
    quotas_of,
)
from skill.plugins._credentials import (
    ApiKey,
    CredentialKind,
    KeyAndSecret,
    OAuthToken,
    credential_from_json,
    credential_from_linking_token,
    credential_to_json,
)
from skill.plugins._deadline import call_deadline
from skill.plugins._endpoint_ids import decode_endpoint_id, encode_endpoint_id

if TYPE_CHECKING:
    from skill.plugins._oauth import OAuthTokenEndpoint, token_from_answer
    from skill.plugins._registry import ENTRY_POINT_GROUP, AdapterRegistry, installed_adapters
    from skill.plugins._transport import (
        USER_AGENT,
        ErrorMapper,
        TransportBacked,
        VendorTransport,
        default_error,
        parse_retry_after,
    )

_TRANSPORT = {
    "USER_AGENT",
    "ErrorMapper",
    "TransportBacked",
    "VendorTransport",
    "default_error",
    "parse_retry_after",
}
_OAUTH = {"OAuthTokenEndpoint", "token_from_answer"}
_REGISTRY = {"ENTRY_POINT_GROUP", "AdapterRegistry", "installed_adapters"}


def __getattr__(name: str) -> Any:
    """The HTTP transport loads ``requests`` only for whoever uses it: the delivery core and
    the stores import this package and must stay free of HTTP libraries. The registry (and
    ``importlib.metadata``'s entry points) loads only in the functions that build adapters."""
    if name in _REGISTRY:
        from skill.plugins import _registry

        return getattr(_registry, name)
    if name in _TRANSPORT:
        from skill.plugins import _transport

        return getattr(_transport, name)
    if name in _OAUTH:
        from skill.plugins import _oauth

        return getattr(_oauth, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ENTRY_POINT_GROUP",
    "NO_QUOTAS",
    "USER_AGENT",
    "Accepted",
    "Adapter",
    "AdapterContext",
    "AdapterFactory",
    "AdapterRegistry",
    "AnyCredential",
    "ApiKey",
    "CredentialKind",
    "CredentialRefresher",
    "Device",
    "DeviceReading",
    "ErrorMapper",
    "KeyAndSecret",
    "Notification",
    "OAuthLinker",
    "OAuthToken",
    "OAuthTokenEndpoint",
    "PushAdapter",
    "SingleWebhookVendor",
    "StateLister",
    "Style",
    "TransportBacked",
    "VendorQuotas",
    "VendorTransport",
    "WebhookRegistrar",
    "WebhookRequest",
    "call_deadline",
    "credential_from_json",
    "credential_from_linking_token",
    "credential_to_json",
    "decode_endpoint_id",
    "default_error",
    "encode_endpoint_id",
    "installed_adapters",
    "parse_retry_after",
    "quotas_of",
    "token_from_answer",
]
