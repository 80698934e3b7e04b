"""The discovery cookie: a device's features in a few short strings.

Alexa sends the cookie back with every directive for the endpoint, so the entrypoint can check
a value against the device's range at once, without calling the vendor. Kept small on purpose:
``{"f": "dct", "ct": "2700-6500", "st": "500"}``.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from skill.bulbs import Features, KelvinRange


def features_to_cookie(features: Features) -> dict[str, str]:
    flags = ("d" if features.dimmable else "") + ("c" if features.color else "")
    cookie = {"f": flags}
    if features.color_temperature is not None:
        cookie["f"] += "t"
        cookie["ct"] = f"{features.color_temperature.minimum}-{features.color_temperature.maximum}"
        cookie["st"] = str(features.color_temperature_step)
    return cookie


def features_from_cookie(cookie: Mapping[str, str]) -> Features | None:
    """The features a cookie describes; None when it is missing or not one of ours."""
    flags = cookie.get("f")
    if flags is None or len(flags) > 3 or set(flags) - set("dct"):
        return None
    try:
        kelvin = None
        if "t" in flags:
            low, _, high = cookie["ct"].partition("-")
            kelvin = KelvinRange(minimum=int(low), maximum=int(high))
        return Features(
            dimmable="d" in flags,
            color="c" in flags,
            color_temperature=kelvin,
            color_temperature_step=int(cookie.get("st", "500")),
        )
    except (KeyError, ValueError, ValidationError):
        return None
