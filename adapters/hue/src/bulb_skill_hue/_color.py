"""Colour conversions for Hue, pure: Alexa HSB <-> CIE 1931 xy in a bulb's gamut, kelvin <-> mirek.

Follows Philips' "Conversion between RGB and xy in the CIE 1931 colorspace for hue"
(PhilipsHueSDK-iOS-OSX, ApplicationDesignNotes/RGB to xy Color conversion.md):

1. HSB -> RGB 0-1 (Alexa's hue and saturation at full value: brightness is Hue's ``dimming``);
2. sRGB gamma expansion: ``((c + 0.055) / 1.055) ** 2.4`` above 0.04045, else ``c / 12.92``;
3. RGB -> XYZ with the "Wide RGB D65" matrix Philips gives;
4. ``x = X / (X + Y + Z)``, ``y = Y / (X + Y + Z)``;
5. outside the bulb's gamut triangle -> the closest point on the triangle (perpendicular onto
   the nearest edge, clamped to that edge's ends, i.e. the nearest corner if need be).

The way back applies the same steps in reverse. Philips' note prints a reverse matrix that it
itself calls "a D50 conversion currently"; it is not the inverse of its forward matrix, so a
colour would drift on every round trip. This module inverts the forward matrix instead, so an
in-gamut colour comes back exactly.

Gamut triangles (red, green, blue corners) come from the light resource (``color.gamut``) when it
has them, else from ``color.gamut_type`` A/B/C, else Philips' "any other light" triangle.
Colour temperature: ``mirek = 1e6 / kelvin``, clamped to the light's ``mirek_schema``.

Example::

    >>> [round(c, 4) for c in hs_to_xy(0.0, 0.0, GAMUT_C)]  # white: the D65 white point
    [0.3127, 0.329]
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Mapping
from typing import Any

Point = tuple[float, float]
Gamut = tuple[Point, Point, Point]  # red, green, blue corners

#: Early Philips colour-only products (LivingColors, Bloom, Iris, LightStrips).
GAMUT_A: Gamut = ((0.704, 0.296), (0.2151, 0.7106), (0.138, 0.08))
#: First Hue colour bulbs.
GAMUT_B: Gamut = ((0.675, 0.322), (0.409, 0.518), (0.167, 0.04))
#: Hue white and colour ambiance (richer greens).
GAMUT_C: Gamut = ((0.6915, 0.3083), (0.17, 0.7), (0.1532, 0.0475))
#: Philips: "If you have light which is not one of those, you should use" this triangle.
GAMUT_ANY: Gamut = ((1.0, 0.0), (0.0, 1.0), (0.0, 0.0))
GAMUTS: dict[str, Gamut] = {"A": GAMUT_A, "B": GAMUT_B, "C": GAMUT_C}

#: Wide RGB D65 -> XYZ, as Philips documents it.
_RGB_TO_XYZ = (
    (0.649926, 0.103455, 0.197109),
    (0.234327, 0.743075, 0.022598),
    (0.000000, 0.053077, 1.035763),
)


def _inverse(m: tuple[tuple[float, ...], ...]) -> tuple[tuple[float, ...], ...]:
    (a, b, c), (d, e, f), (g, h, i) = m
    det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    return (
        ((e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det),
        ((f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det),
        ((d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det),
    )


_XYZ_TO_RGB = _inverse(_RGB_TO_XYZ)


def _mul(m: tuple[tuple[float, ...], ...], v: tuple[float, float, float]) -> tuple[float, ...]:
    return tuple(row[0] * v[0] + row[1] * v[1] + row[2] * v[2] for row in m)


def _expand(c: float) -> float:  # sRGB gamma -> linear
    return ((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92


def _compress(c: float) -> float:  # linear -> sRGB gamma
    return 1.055 * c ** (1 / 2.4) - 0.055 if c > 0.0031308 else 12.92 * c


# -- gamut ---------------------------------------------------------------------------------------


def gamut_of(color: Mapping[str, Any] | None) -> Gamut:
    """The triangle of a light resource's ``color`` feature (``gamut``, else ``gamut_type``)."""
    color = color or {}
    corners = color.get("gamut")
    if isinstance(corners, Mapping):
        try:
            gamut = tuple(
                (float(corners[name]["x"]), float(corners[name]["y"]))
                for name in ("red", "green", "blue")
            )
            if _area(gamut) > 1e-6:  # type: ignore[arg-type]
                return gamut  # type: ignore[return-value]
        except (KeyError, TypeError, ValueError):
            pass
    return GAMUTS.get(str(color.get("gamut_type")), GAMUT_ANY)


def _area(g: Gamut) -> float:
    (ax, ay), (bx, by), (cx, cy) = g
    return abs((bx - ax) * (cy - ay) - (cx - ax) * (by - ay)) / 2


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def in_gamut(point: Point, gamut: Gamut) -> bool:
    r, g, b = gamut
    signs = (_cross(r, g, point), _cross(g, b, point), _cross(b, r, point))
    eps = 1e-12
    return all(s >= -eps for s in signs) or all(s <= eps for s in signs)


def _closest_on_segment(p: Point, a: Point, b: Point) -> Point:
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else ((p[0] - ax) * dx + (p[1] - ay) * dy) / length
    t = max(0.0, min(1.0, t))
    return (ax + t * dx, ay + t * dy)


def closest_in_gamut(point: Point, gamut: Gamut) -> Point:
    """``point`` itself when the bulb can show it, else the nearest point of the triangle."""
    if in_gamut(point, gamut):
        return point
    r, g, b = gamut
    candidates = [_closest_on_segment(point, *edge) for edge in ((r, g), (g, b), (b, r))]
    return min(candidates, key=lambda c: math.dist(c, point))


# -- HSB <-> xy ----------------------------------------------------------------------------------


def hs_to_xy(hue: float, saturation: float, gamut: Gamut = GAMUT_ANY) -> Point:
    """Alexa's hue (degrees) and saturation (0-1) -> xy the bulb can show.

    Not rounded: rounding a point on the triangle's edge could push it back outside.
    """
    rgb = colorsys.hsv_to_rgb((hue % 360) / 360, max(0.0, min(1.0, saturation)), 1.0)
    x_, y_, z_ = _mul(_RGB_TO_XYZ, tuple(_expand(c) for c in rgb))  # type: ignore[arg-type]
    total = x_ + y_ + z_
    return closest_in_gamut((x_ / total, y_ / total), gamut)


def xy_to_hs(x: float, y: float, gamut: Gamut = GAMUT_ANY) -> tuple[float, float]:
    """xy (first brought into the bulb's gamut) -> hue in degrees [0, 360) and saturation 0-1."""
    x, y = closest_in_gamut((x, y), gamut)
    y = max(y, 1e-6)
    linear = _mul(_XYZ_TO_RGB, (x / y, 1.0, (1.0 - x - y) / y))
    linear = tuple(max(0.0, c) for c in linear)
    peak = max(linear)
    if peak <= 0:
        return (0.0, 0.0)
    r, g, b = (_compress(c / peak) for c in linear)
    h, s, _ = colorsys.rgb_to_hsv(min(r, 1.0), min(g, 1.0), min(b, 1.0))
    return (round(h * 360, 4) % 360, round(s, 4))


# -- kelvin <-> mirek ----------------------------------------------------------------------------


def kelvin_to_mirek(kelvin: float, mirek_minimum: int, mirek_maximum: int) -> int:
    """``round(1e6 / K)`` clamped to the light's ``mirek_schema``."""
    mirek = round(1_000_000 / max(kelvin, 1.0))
    return max(mirek_minimum, min(mirek_maximum, mirek))


def mirek_to_kelvin(mirek: float) -> int:
    return round(1_000_000 / mirek)


def kelvin_range(mirek_minimum: int, mirek_maximum: int) -> tuple[int, int]:
    """The kelvin range a mirek schema allows, rounded inwards (warmest = ``mirek_maximum``)."""
    return (math.ceil(1_000_000 / mirek_maximum), math.floor(1_000_000 / mirek_minimum))
