"""Incoming Smart Home directives (payload version 3) as pydantic v2 models, and the table of
the directives this skill supports, keyed by ``(namespace, name)``.

Parsing is the validation: an envelope that does not parse is ``INVALID_DIRECTIVE``; a payload
value of the wrong type is ``INVALID_VALUE``; a value out of range is ``VALUE_OUT_OF_RANGE``.

Example::

    >>> header = {"namespace": "Alexa.BrightnessController", "name": "SetBrightness",
    ...           "payloadVersion": "3", "messageId": "m-1", "correlationToken": "c-1"}
    >>> envelope = parse_envelope({"directive": {  # raises InvalidDirective
    ...     "header": header, "endpoint": {"endpointId": "lifx:d1"},
    ...     "payload": {"brightness": 40}}})
    >>> spec = spec_for(envelope.directive)       # InvalidDirective when unsupported
    >>> spec.kind
    <Kind.CONTROL: 'control'>
    >>> spec.command(envelope.directive)          # raises InvalidValue / ValueOutOfRange
    SetBrightness(kind='SetBrightness', brightness=40)
    >>> parse_envelope({"directive": {}})
    Traceback (most recent call last):
    ...
    skill.errors.InvalidDirective: directive.header: Field required
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError

from skill import bulbs
from skill.errors import InvalidDirective, InvalidValue, ValueOutOfRange

_ENDPOINT_ID = r"^[a-zA-Z0-9_\-=#;:?@&]+$"


class _Model(BaseModel):
    # defer_build: built when first used, so a cold start pays only for the directives it reads
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, defer_build=True)


class Scope(_Model):
    type: Literal["BearerToken"]
    #: Empty when missing: the handler answers INVALID_AUTHORIZATION_CREDENTIAL, not
    #: INVALID_DIRECTIVE (a directive without a credential is well formed, just not allowed).
    token: str = Field(default="", max_length=8192)

    def __repr__(self) -> str:  # never show a token in a log or traceback
        return "Scope(type='BearerToken', token=<redacted>)"

    __str__ = __repr__


class Header(_Model):
    namespace: str = Field(min_length=1, max_length=128)
    name: str = Field(min_length=1, max_length=128)
    payload_version: Literal["3"] = Field(alias="payloadVersion")
    message_id: str = Field(alias="messageId", min_length=1, max_length=512)
    correlation_token: str | None = Field(default=None, alias="correlationToken", min_length=1)


class Endpoint(_Model):
    endpoint_id: str = Field(alias="endpointId", min_length=1, max_length=256, pattern=_ENDPOINT_ID)
    scope: Scope | None = None
    cookie: dict[str, str] = Field(default_factory=dict, max_length=32)


class Directive(_Model):
    header: Header
    endpoint: Endpoint | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.header.namespace, self.header.name)


class Envelope(_Model):
    directive: Directive


def parse_envelope(event: Any) -> Envelope:
    """The directive in a Lambda event; ``InvalidDirective`` when it is not one."""
    try:
        return Envelope.model_validate(event)
    except ValidationError as exc:
        raise InvalidDirective(_first_problem(exc)) from None


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "directive"
    return f"{where}: {error['msg']}"[:200]


# --- payloads -------------------------------------------------------------------------------


class _Payload(_Model):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, strict=True)


class EmptyPayload(_Payload):
    pass


class SetBrightnessPayload(_Payload):
    brightness: StrictInt


class AdjustBrightnessPayload(_Payload):
    brightness_delta: StrictInt = Field(alias="brightnessDelta")


class ColorValue(_Payload):
    hue: StrictFloat | StrictInt
    saturation: StrictFloat | StrictInt
    brightness: StrictFloat | StrictInt


class SetColorPayload(_Payload):
    color: ColorValue


class SetColorTemperaturePayload(_Payload):
    color_temperature_in_kelvin: StrictInt = Field(alias="colorTemperatureInKelvin")


class Grant(_Payload):
    type: Literal["OAuth2.AuthorizationCode"]
    code: str = Field(min_length=1, max_length=2048)


class AcceptGrantPayload(_Payload):
    grant: Grant
    grantee: Scope


class DiscoverPayload(_Payload):
    scope: Scope


# --- the table of supported directives --------------------------------------------------------


class Kind(StrEnum):
    """How the entrypoint answers: in the same invocation (``IMMEDIATE``) or by way of the
    directives queue (``CONTROL``)."""

    IMMEDIATE = "immediate"
    CONTROL = "control"


class DirectiveSpec(NamedTuple):
    namespace: str
    name: str
    payload: type[_Payload]
    kind: Kind
    to_command: Callable[[Any], bulbs.Command] | None = None

    def parse_payload(self, directive: Directive) -> Any:
        try:
            return self.payload.model_validate(directive.payload)
        except ValidationError as exc:
            error_class = InvalidDirective if self.kind is Kind.IMMEDIATE else InvalidValue
            raise error_class(_first_problem(exc)) from None

    def command(self, directive: Directive) -> bulbs.Command:
        """The bulb command a control directive asks for; raises on a bad payload."""
        if self.to_command is None:
            raise InvalidDirective(f"{self.namespace}.{self.name} is not a control directive")
        return self.to_command(self.parse_payload(directive))


def _color(payload: SetColorPayload) -> bulbs.SetColor:
    value = payload.color
    for name, top in (("hue", 360), ("saturation", 1), ("brightness", 1)):
        number = getattr(value, name)
        if not 0 <= number <= top:
            raise ValueOutOfRange(f"{name} {number} is not 0-{top}", minimum=0, maximum=top)
    return bulbs.SetColor(
        color=bulbs.Color(hue=value.hue, saturation=value.saturation, brightness=value.brightness)
    )


_SPECS = (
    DirectiveSpec("Alexa.Authorization", "AcceptGrant", AcceptGrantPayload, Kind.IMMEDIATE),
    DirectiveSpec("Alexa.Discovery", "Discover", DiscoverPayload, Kind.IMMEDIATE),
    DirectiveSpec("Alexa", "ReportState", EmptyPayload, Kind.IMMEDIATE),
    DirectiveSpec(
        "Alexa.PowerController", "TurnOn", EmptyPayload, Kind.CONTROL, lambda _: bulbs.TurnOn()
    ),
    DirectiveSpec(
        "Alexa.PowerController", "TurnOff", EmptyPayload, Kind.CONTROL, lambda _: bulbs.TurnOff()
    ),
    DirectiveSpec(
        "Alexa.BrightnessController",
        "SetBrightness",
        SetBrightnessPayload,
        Kind.CONTROL,
        lambda p: bulbs.SetBrightness(brightness=p.brightness),
    ),
    DirectiveSpec(
        "Alexa.BrightnessController",
        "AdjustBrightness",
        AdjustBrightnessPayload,
        Kind.CONTROL,
        lambda p: bulbs.AdjustBrightness(delta=p.brightness_delta),
    ),
    DirectiveSpec("Alexa.ColorController", "SetColor", SetColorPayload, Kind.CONTROL, _color),
    DirectiveSpec(
        "Alexa.ColorTemperatureController",
        "SetColorTemperature",
        SetColorTemperaturePayload,
        Kind.CONTROL,
        lambda p: bulbs.SetColorTemperature(kelvin=p.color_temperature_in_kelvin),
    ),
    DirectiveSpec(
        "Alexa.ColorTemperatureController",
        "IncreaseColorTemperature",
        EmptyPayload,
        Kind.CONTROL,
        lambda _: bulbs.IncreaseColorTemperature(),
    ),
    DirectiveSpec(
        "Alexa.ColorTemperatureController",
        "DecreaseColorTemperature",
        EmptyPayload,
        Kind.CONTROL,
        lambda _: bulbs.DecreaseColorTemperature(),
    ),
)

#: Every directive this skill answers, by ``(namespace, name)``.
SUPPORTED: Mapping[tuple[str, str], DirectiveSpec] = {(s.namespace, s.name): s for s in _SPECS}


def spec_for(directive: Directive) -> DirectiveSpec:
    """The supported directive's spec; ``InvalidDirective`` for anything else."""
    spec = SUPPORTED.get(directive.key)
    if spec is None:
        raise InvalidDirective(
            f"{directive.header.namespace}.{directive.header.name} is not supported"
        )
    return spec
