"""The Smart Home protocol: directive models, capabilities, message builders. No AWS, no HTTP."""

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
