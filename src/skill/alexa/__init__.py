"""The Smart Home protocol: directive models, capabilities, message builders. No AWS, no HTTP.

Each name loads its module on first use (``skill._lazy``): the sweep builds ChangeReports
(``events``) without the directive models.
"""

from typing import TYPE_CHECKING

from skill._lazy import lazy_exports

if TYPE_CHECKING:
    from skill.alexa import events
    from skill.alexa.capabilities import capabilities_for, state_properties, time_of_sample
    from skill.alexa.cookie import features_from_cookie, features_to_cookie
    from skill.alexa.directives import (
        SUPPORTED,
        Directive,
        DirectiveSpec,
        Envelope,
        Kind,
        parse_envelope,
        spec_for,
    )

__getattr__ = lazy_exports(
    __name__,
    {
        "SUPPORTED": "directives",
        "Directive": "directives",
        "DirectiveSpec": "directives",
        "Envelope": "directives",
        "Kind": "directives",
        "capabilities_for": "capabilities",
        "events": "events",
        "features_from_cookie": "cookie",
        "features_to_cookie": "cookie",
        "parse_envelope": "directives",
        "spec_for": "directives",
        "state_properties": "capabilities",
        "time_of_sample": "capabilities",
    },
)

__all__ = [
    "SUPPORTED",
    "Directive",
    "DirectiveSpec",
    "Envelope",
    "Kind",
    "capabilities_for",
    "events",
    "features_from_cookie",
    "features_to_cookie",
    "parse_envelope",
    "spec_for",
    "state_properties",
    "time_of_sample",
]
