"""The vendor adapter plugin contract, the registry of installed adapters, and endpoint ids.

An adapter is an installable package that registers a factory under the entry-point group
``bulb_skill.adapters``; see ``docs/adapters.md``.
"""

from skill.plugins._contract import (
    Accepted,
    Adapter,
    AdapterContext,
    AnyCredential,
    CredentialRefresher,
    OAuthLinker,
    SingleWebhookVendor,
    AdapterFactory,
    Device,
    Notification,
    PushAdapter,
    Style,
    WebhookRegistrar,
    WebhookRequest,
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
from skill.plugins._endpoint_ids import decode_endpoint_id, encode_endpoint_id
from skill.plugins._registry import ENTRY_POINT_GROUP, AdapterRegistry, installed_adapters
from skill.plugins._transport import (
    USER_AGENT,
    ErrorMapper,
    VendorTransport,
    default_error,
    parse_retry_after,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "Accepted",
    "Adapter",
    "AdapterContext",
    "AdapterFactory",
    "AdapterRegistry",
    "AnyCredential",
    "ApiKey",
    "CredentialKind",
    "CredentialRefresher",
    "OAuthLinker",
    "SingleWebhookVendor",
    "KeyAndSecret",
    "OAuthToken",
    "credential_from_json",
    "credential_from_linking_token",
    "credential_to_json",
    "Device",
    "Notification",
    "PushAdapter",
    "Style",
    "WebhookRegistrar",
    "WebhookRequest",
    "decode_endpoint_id",
    "encode_endpoint_id",
    "installed_adapters",
    "USER_AGENT",
    "ErrorMapper",
    "VendorTransport",
    "default_error",
    "parse_retry_after",
]
