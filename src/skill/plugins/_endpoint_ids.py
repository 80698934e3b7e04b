"""Endpoint ids: ``<vendor>:<device id>``, so a directive routes to its adapter by prefix.

Alexa allows only ``[a-zA-Z0-9_\\-=#;:?@&]`` (1-256 characters) in an endpoint id; a vendor
device id outside that alphabet is carried base64url-encoded after ``<vendor>:=``.
"""

from __future__ import annotations

import base64
import re

from skill.errors import NoSuchEndpoint

_ALLOWED = re.compile(r"^[a-zA-Z0-9_\-=#;:?@&]+$")
_VENDOR = re.compile(r"^[a-z0-9_\-]{1,32}$")
MAX_LENGTH = 256


def encode_endpoint_id(vendor: str, device_id: str) -> str:
    if not _VENDOR.match(vendor):
        raise ValueError(f"vendor key {vendor!r} must match {_VENDOR.pattern}")
    if _ALLOWED.match(device_id) and not device_id.startswith("="):
        endpoint_id = f"{vendor}:{device_id}"
    else:
        encoded = base64.urlsafe_b64encode(device_id.encode()).decode().rstrip("=")
        endpoint_id = f"{vendor}:={encoded}"
    if len(endpoint_id) > MAX_LENGTH:
        raise ValueError(f"endpoint id for {device_id!r} is longer than {MAX_LENGTH}")
    return endpoint_id


def decode_endpoint_id(endpoint_id: str) -> tuple[str, str]:
    """``(vendor, device_id)`` of an endpoint id; ``NoSuchEndpoint`` if it is not one of ours."""
    vendor, sep, device = endpoint_id.partition(":")
    if not sep or not device or not _VENDOR.match(vendor):
        raise NoSuchEndpoint(f"endpoint {endpoint_id[:64]!r} is not one of this skill's")
    if device.startswith("="):
        try:
            padded = device[1:] + "=" * (-len(device[1:]) % 4)
            return vendor, base64.urlsafe_b64decode(padded.encode()).decode()
        except (ValueError, UnicodeDecodeError) as exc:
            raise NoSuchEndpoint("malformed endpoint id") from exc
    return vendor, device
