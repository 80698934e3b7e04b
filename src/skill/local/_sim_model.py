"""The simulated vendors' bulbs: wire models, strict body validation and the demo catalogue.

Deliberately independent of ``skill.bulbs``: the simulator plays a foreign vendor, so a mismatch
between what our adapters send and what a vendor accepts shows up as a 400, as it would for real.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

#: Vendor key -> API kind: "sync" answers with the new state, "push" answers 202 and calls the
#: webhook when the bulb has changed, "nopush" answers 202 and says nothing more.
VENDORS: dict[str, str] = {
    "sim-sync": "sync",
    "sim-async": "push",
    "sim-optimistic": "nopush",
    "sim-polling": "nopush",
}

DEMO_TOKEN = "demo-token"
DEMO_USER = "demo-user"

#: Friendly-name prefix and manufacturer per vendor, so Alexa never sees two bulbs with one name.
_BRANDS: dict[str, tuple[str, str]] = {
    "sim-sync": ("Sync", "SimSync Lighting"),
    "sim-async": ("Push", "SimPush Lighting"),
    "sim-optimistic": ("Optimistic", "SimOptimist Lighting"),
    "sim-polling": ("Polling", "SimPoll Lighting"),
}


class BadRequest(ValueError):
    """A body the vendor refuses (400); the message says why, as a vendor's error would.

    A ``ValueError`` so that pydantic validators may raise it too.
    """


class NotFound(LookupError):
    """No such vendor, device or route (404)."""


class Conflict(ValueError):
    """A device with that id already exists (409)."""


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class SimColor(_Strict):
    hue: float = Field(ge=0, le=360)
    saturation: float = Field(ge=0, le=1)
    brightness: float = Field(ge=0, le=1)


class SimFeatures(_Strict):
    dimmable: bool = True
    color: bool = False
    ct_min: int | None = Field(default=None, gt=0)
    ct_max: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _range_is_whole(self) -> SimFeatures:
        if (self.ct_min is None) != (self.ct_max is None):
            raise ValueError("ct_min and ct_max go together")
        if self.ct_min is not None and self.ct_max is not None and self.ct_min > self.ct_max:
            raise ValueError("ct_min is above ct_max")
        return self


class SimState(_Strict):
    """What the bulb shows; the colour or colour temperature not in use is null."""

    on: bool = False
    brightness: int = Field(default=100, ge=0, le=100)
    color: SimColor | None = None
    color_temperature: int | None = Field(default=None, gt=0)
    color_mode: Literal["color", "temperature"] | None = None


class Attributes(_Strict):
    """A command body: any subset of the settable attributes (``{}`` is a valid no-op)."""

    on: bool | None = None
    brightness: int | None = Field(default=None, ge=0, le=100)
    color: SimColor | None = None
    color_temperature: int | None = None

    @model_validator(mode="after")
    def _no_nulls_no_conflict(self) -> Attributes:
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"null is not a value for {', '.join(nulls)}")
        if self.color is not None and self.color_temperature is not None:
            raise ValueError("set either color or color_temperature, not both")
        return self


class PhysicalChange(Attributes):
    """What a test does to a bulb by hand (the wall switch, the vendor's own app, a power cut)."""

    online: bool | None = None


class SimDevice(BaseModel):
    """One bulb in a vendor's cloud; mutable, guarded by the simulator's lock."""

    model_config = ConfigDict(strict=True, extra="forbid", validate_assignment=True)

    id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=128)
    manufacturer: str = "Simulated Lighting"
    model: str = "SIM-1"
    features: SimFeatures = SimFeatures()
    state: SimState = SimState()
    online: bool = True

    @model_validator(mode="after")
    def _state_fits_features(self) -> SimDevice:
        check_supported(self.state_attributes(), self.features)
        return self

    def state_attributes(self) -> Attributes:
        """The current state as attributes (what ``check_supported`` understands)."""
        attrs = {"color": self.state.color, "color_temperature": self.state.color_temperature}
        return Attributes(**{name: value for name, value in attrs.items() if value is not None})

    def listing(self) -> dict[str, Any]:
        fields = {"id", "name", "manufacturer", "model", "features"}
        return self.model_dump(mode="json", include=fields)

    def state_json(self) -> dict[str, Any]:
        return {**self.state.model_dump(mode="json"), "online": self.online}


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: bytes | Mapping[str, Any]) -> M:
    """Validate a JSON body (or the same as a mapping) strictly; complaints -> ``BadRequest``."""
    try:
        if isinstance(data, bytes):
            return model.model_validate_json(data or b"null")
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise BadRequest(f"{where}: {first['msg']}") from exc


def check_supported(attrs: Attributes, features: SimFeatures) -> None:
    """Refuse attributes this bulb does not have, like a vendor API does."""
    if attrs.brightness is not None and not features.dimmable:
        raise BadRequest("this device is not dimmable")
    if attrs.color is not None and not features.color:
        raise BadRequest("this device has no colour")
    kelvin = attrs.color_temperature
    if kelvin is not None:
        if features.ct_min is None or features.ct_max is None:
            raise BadRequest("this device has no colour temperature")
        if not features.ct_min <= kelvin <= features.ct_max:
            raise BadRequest(f"color_temperature must be {features.ct_min}-{features.ct_max}")


def applied(state: SimState, attrs: Attributes) -> SimState:
    """The state after ``attrs``: colour and colour temperature exclude each other."""
    update: dict[str, Any] = {
        name: value
        for name in ("on", "brightness")
        if (value := getattr(attrs, name)) is not None
    }
    if attrs.color is not None:
        update |= {"color": attrs.color, "color_temperature": None, "color_mode": "color"}
    if attrs.color_temperature is not None:
        update |= {
            "color": None,
            "color_temperature": attrs.color_temperature,
            "color_mode": "temperature",
        }
    return state.model_copy(update=update)


def default_catalogue(vendor: str) -> list[SimDevice]:
    """The three bulbs every account starts with: colour, tunable white, plain dimmable white."""
    brand, manufacturer = _BRANDS.get(vendor, (vendor, "Simulated Lighting"))
    return [
        SimDevice(
            id="color-1",
            name=f"{brand} Colour Bulb",
            manufacturer=manufacturer,
            model="Colour A19",
            features=SimFeatures(dimmable=True, color=True, ct_min=2000, ct_max=9000),
            state=SimState(brightness=80, color_temperature=2700, color_mode="temperature"),
        ),
        SimDevice(
            id="white-tunable-1",
            name=f"{brand} Tunable White",
            manufacturer=manufacturer,
            model="Tunable White A19",
            features=SimFeatures(dimmable=True, ct_min=2700, ct_max=6500),
            state=SimState(color_temperature=4000, color_mode="temperature"),
        ),
        SimDevice(
            id="white-1",
            name=f"{brand} White Bulb",
            manufacturer=manufacturer,
            model="White A19",
            features=SimFeatures(dimmable=True),
        ),
    ]
