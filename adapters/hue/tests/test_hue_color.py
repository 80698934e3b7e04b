"""The pure colour conversions: Philips' RGB<->xy recipe, gamut clamping, kelvin<->mirek."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulb_skill_hue._color import (
    _RGB_TO_XYZ,
    _XYZ_TO_RGB,
    GAMUT_A,
    GAMUT_ANY,
    GAMUT_B,
    GAMUT_C,
    closest_in_gamut,
    gamut_of,
    hs_to_xy,
    in_gamut,
    kelvin_range,
    kelvin_to_mirek,
    mirek_to_kelvin,
    xy_to_hs,
)

GAMUTS = [GAMUT_A, GAMUT_B, GAMUT_C]
hues = st.floats(min_value=0, max_value=360, exclude_max=True, allow_nan=False)
saturations = st.floats(min_value=0, max_value=1, allow_nan=False)


def _hue_gap(a: float, b: float) -> float:
    gap = abs(a - b) % 360
    return min(gap, 360 - gap)


# -- Philips' recipe -----------------------------------------------------------------------------


def test_white_is_the_d65_white_point() -> None:
    assert hs_to_xy(0, 0, GAMUT_C) == pytest.approx((0.3127, 0.3290), abs=1e-4)


def test_srgb_red_through_the_wide_rgb_matrix_is_philips_red_primary() -> None:
    # X = 0.649926, Y = 0.234327, Z = 0 for (1, 0, 0): x = X / (X + Y), y = Y / (X + Y)
    assert hs_to_xy(0, 1, GAMUT_ANY) == pytest.approx((0.7350, 0.2650), abs=1e-4)


def test_the_reverse_matrix_is_the_exact_inverse_of_philips_forward_matrix() -> None:
    for i in range(3):
        for j in range(3):
            cell = sum(_XYZ_TO_RGB[i][k] * _RGB_TO_XYZ[k][j] for k in range(3))
            assert cell == pytest.approx(1.0 if i == j else 0.0, abs=1e-12)


def test_a_pastel_colour_inside_the_gamut_round_trips_exactly() -> None:
    x, y = hs_to_xy(30, 0.3, GAMUT_C)
    assert in_gamut((x, y), GAMUT_C)
    hue, saturation = xy_to_hs(x, y, GAMUT_C)
    assert hue == pytest.approx(30, abs=0.01) and saturation == pytest.approx(0.3, abs=0.001)


@given(hues, saturations)
def test_every_colour_inside_the_gamut_comes_back_as_it_went(hue, saturation) -> None:
    raw = hs_to_xy(hue, saturation, GAMUT_ANY)
    if not in_gamut(raw, GAMUT_C) or saturation < 0.01:
        return  # clamped colours change by design; hue of a grey is meaningless
    back_hue, back_saturation = xy_to_hs(*hs_to_xy(hue, saturation, GAMUT_C), GAMUT_C)
    assert back_saturation == pytest.approx(saturation, abs=0.002)
    assert _hue_gap(back_hue, hue) < 0.5


@pytest.mark.parametrize("gamut", GAMUTS, ids=["A", "B", "C"])
@given(hue=hues, saturation=saturations)
def test_what_is_sent_is_always_inside_the_bulbs_gamut(gamut, hue, saturation) -> None:
    assert in_gamut(hs_to_xy(hue, saturation, gamut), gamut)


@given(hues, saturations)
def test_reading_back_gives_alexa_ranges(hue, saturation) -> None:
    back_hue, back_saturation = xy_to_hs(*hs_to_xy(hue, saturation, GAMUT_B), GAMUT_B)
    assert 0 <= back_hue < 360 and 0 <= back_saturation <= 1


def test_saturated_red_lands_on_the_gamut_c_red_corner() -> None:
    assert hs_to_xy(0, 1, GAMUT_C) == pytest.approx((0.6915, 0.3083), abs=1e-4)
    hue, saturation = xy_to_hs(0.6915, 0.3083, GAMUT_C)
    assert saturation == pytest.approx(1.0) and _hue_gap(hue, 0) < 25


# -- the gamut triangle --------------------------------------------------------------------------


def test_a_point_inside_is_left_alone() -> None:
    assert closest_in_gamut((0.35, 0.35), GAMUT_C) == (0.35, 0.35)


def test_a_point_beyond_an_edge_goes_perpendicular_onto_it() -> None:
    # Outside the red-blue edge of gamut B: the foot of the perpendicular, not a corner.
    point = (0.45, 0.1)
    x, y = closest_in_gamut(point, GAMUT_B)
    (rx, ry), _, (bx, by) = GAMUT_B
    assert in_gamut((x, y), GAMUT_B)
    along = ((x - bx) * (rx - bx) + (y - by) * (ry - by)) / math.dist((rx, ry), (bx, by))
    assert 0 < along < math.dist((rx, ry), (bx, by))
    # the step from the point to its projection is perpendicular to the edge
    assert (point[0] - x) * (rx - bx) + (point[1] - y) * (ry - by) == pytest.approx(0, abs=1e-12)


def test_a_point_beyond_a_corner_goes_to_the_corner() -> None:
    assert closest_in_gamut((0.8, 0.3), GAMUT_A) == pytest.approx(GAMUT_A[0])


@given(st.floats(0, 1), st.floats(0, 1))
def test_the_projection_is_the_nearest_point_of_the_triangle(x, y) -> None:
    nearest = closest_in_gamut((x, y), GAMUT_C)
    assert in_gamut(nearest, GAMUT_C)
    best = math.dist(nearest, (x, y))
    for (ax, ay), (bx, by) in itertools.pairwise((*GAMUT_C, GAMUT_C[0])):
        for step in range(21):  # sample every edge: nothing on it may be nearer
            t = step / 20
            assert best <= math.dist((ax + t * (bx - ax), ay + t * (by - ay)), (x, y)) + 1e-9


def test_gamut_comes_from_the_light_then_its_type_then_philips_default() -> None:
    own = {
        "red": {"x": 0.7, "y": 0.3},
        "green": {"x": 0.2, "y": 0.7},
        "blue": {"x": 0.15, "y": 0.05},
    }
    assert gamut_of({"gamut": own, "gamut_type": "C"}) == ((0.7, 0.3), (0.2, 0.7), (0.15, 0.05))
    assert gamut_of({"gamut_type": "A"}) == GAMUT_A
    assert gamut_of({"gamut_type": "other"}) == GAMUT_ANY
    assert gamut_of({"gamut": {"red": {"x": 0.5}}, "gamut_type": "B"}) == GAMUT_B
    assert gamut_of(None) == GAMUT_ANY


# -- kelvin <-> mirek ----------------------------------------------------------------------------


def test_mirek_is_a_million_over_kelvin() -> None:
    assert kelvin_to_mirek(2700, 153, 500) == 370
    assert mirek_to_kelvin(370) == 2703


def test_kelvin_outside_the_schema_is_clamped() -> None:
    assert kelvin_to_mirek(1500, 153, 500) == 500
    assert kelvin_to_mirek(9000, 153, 454) == 153


def test_kelvin_range_comes_from_the_schema_rounded_inwards() -> None:
    low, high = kelvin_range(153, 500)
    assert (low, high) == (2000, 6535)
    assert kelvin_to_mirek(low, 153, 500) == 500 and kelvin_to_mirek(high, 153, 500) == 153


@given(st.integers(153, 500))
def test_a_schema_mirek_survives_the_trip_through_kelvin(mirek) -> None:
    assert kelvin_to_mirek(mirek_to_kelvin(mirek), 153, 500) == mirek
