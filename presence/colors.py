"""Member colours: distinct within a room and readable on light and dark backgrounds.

Every palette colour has the same relative luminance (about 0.18), which gives a
contrast ratio above 4:1 both against white and against a near-black page, so a
name drawn in it reads in light and dark mode alike. Hues follow the golden angle,
so the first colours handed out in a room are far apart.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterable

TARGET_LUMINANCE = 0.18
SATURATION = 0.8
GOLDEN_ANGLE = 137.50776405


def _channel_to_linear(value: float) -> float:
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_color: str) -> float:
    """WCAG relative luminance of a ``#rrggbb`` colour."""
    r, g, b = (int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return (
        0.2126 * _channel_to_linear(r)
        + 0.7152 * _channel_to_linear(g)
        + 0.0722 * _channel_to_linear(b)
    )


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio between two ``#rrggbb`` colours."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _hex(r: float, g: float, b: float) -> str:
    return "#" + "".join(f"{round(channel * 255):02x}" for channel in (r, g, b))


def _colour_for_hue(hue_degrees: float) -> str:
    low, high = 0.0, 1.0
    for _ in range(40):
        lightness = (low + high) / 2
        candidate = _hex(*colorsys.hls_to_rgb(hue_degrees / 360, lightness, SATURATION))
        if relative_luminance(candidate) < TARGET_LUMINANCE:
            low = lightness
        else:
            high = lightness
    return _hex(*colorsys.hls_to_rgb(hue_degrees / 360, (low + high) / 2, SATURATION))


def build_palette(size: int) -> tuple[str, ...]:
    """Return ``size`` distinct colours of equal luminance, in hand-out order."""
    colours: list[str] = []
    step = 0
    while len(colours) < size:
        colour = _colour_for_hue((step * GOLDEN_ANGLE) % 360)
        step += 1
        if colour not in colours:
            colours.append(colour)
    return tuple(colours)


PALETTE = build_palette(128)


def pick_color(in_use: Iterable[str]) -> str:
    """Return the first palette colour not in ``in_use``."""
    taken = set(in_use)
    for colour in PALETTE:
        if colour not in taken:
            return colour
    return PALETTE[len(taken) % len(PALETTE)]
