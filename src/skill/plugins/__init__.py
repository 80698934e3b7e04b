"""The vendor adapter plugin contract, the registry of installed adapters, and endpoint ids.

An adapter is an installable package that registers a factory under the entry-point group
``bulb_skill.adapters``; see ``docs/adapters.md``.

Every name loads its module on first use (``skill._lazy``): the configuration reads ``Style``
without the bulb models, the stores without ``requests``, and only the functions that build
adapters load the registry (and ``importlib.metadata``'s entry points).
"""

from typing import TYPE_CHECKING

from skill._lazy import lazy_exports

if TYPE_CHECKING:
    from skill.plugins._contract import (
        NO_QUOTAS,
        Accepted,
        Adapter,
        AdapterContext,
        AdapterFactory,
        CredentialRefresher,
        Device,
        DeviceReading,
        Notification,
        OAuthLinker,
        PushAdapter,
        SingleWebhookVendor,
        StateLister,
        VendorQuotas,
        WebhookRegistrar,
        WebhookRequest,
        quotas_of,
    )
    from skill.plugins._credentials import (
        AnyCredential,
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
    from skill.plugins._oauth import OAuthTokenEndpoint, token_from_answer
    from skill.plugins._registry import ENTRY_POINT_GROUP, AdapterRegistry, installed_adapters
    from skill.plugins._style import Style
    from skill.plugins._transport import (
        USER_AGENT,
        ErrorMapper,
        TransportBacked,
        VendorTransport,
        default_error,
        parse_retry_after,
    )

_MODULES = {
    "_contract": (
        "NO_QUOTAS Accepted Adapter AdapterContext AdapterFactory CredentialRefresher Device "
        "DeviceReading Notification OAuthLinker PushAdapter SingleWebhookVendor StateLister "
        "VendorQuotas WebhookRegistrar WebhookRequest quotas_of"
    ),
    "_credentials": (
        "AnyCredential ApiKey CredentialKind KeyAndSecret OAuthToken credential_from_json "
        "credential_from_linking_token credential_to_json"
    ),
    "_deadline": "call_deadline",
    "_endpoint_ids": "decode_endpoint_id encode_endpoint_id",
    "_oauth": "OAuthTokenEndpoint token_from_answer",
    "_registry": "ENTRY_POINT_GROUP AdapterRegistry installed_adapters",
    "_style": "Style",
    "_transport": "USER_AGENT ErrorMapper TransportBacked VendorTransport default_error "
    "parse_retry_after",
}
__getattr__ = lazy_exports(
    __name__, {name: module for module, names in _MODULES.items() for name in names.split()}
)

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
