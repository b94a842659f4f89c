"""The GPS fix against the registered home, as numbers and as a small drawing (no map tiles)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from server.models import Beneficiary
from server.services.visit_signals import distance_m

SIZE = 240  # the drawing is SIZE × SIZE pixels, the home at its centre


@dataclass(frozen=True)
class FixPicture:
    distance_m: float
    accuracy_m: float
    # Positions in the drawing; the scale fits the fix and its accuracy circle.
    x: float
    y: float
    radius: float
    scale_m: float


def fix_picture(beneficiary: Beneficiary, gps: dict[str, Any] | None) -> FixPicture | None:
    """Where the fix lies from the home (north up), or None without a fix or a registered home."""
    if not gps or beneficiary.home_lat is None or beneficiary.home_lon is None:
        return None
    lat, lon, accuracy = float(gps["lat"]), float(gps["lon"]), float(gps.get("accuracy_m") or 0)
    home_lat, home_lon = float(beneficiary.home_lat), float(beneficiary.home_lon)
    distance = distance_m(home_lat, home_lon, lat, lon)
    # East and north offsets in metres; exact enough for a drawing of a few kilometres.
    east = distance_m(home_lat, home_lon, home_lat, lon) * (1 if lon >= home_lon else -1)
    north = distance_m(home_lat, home_lon, lat, home_lon) * (1 if lat >= home_lat else -1)
    reach = max(100.0, (math.hypot(east, north) + accuracy) * 1.2)
    pixels_per_m = (SIZE / 2) / reach
    return FixPicture(
        distance_m=distance,
        accuracy_m=accuracy,
        x=SIZE / 2 + east * pixels_per_m,
        y=SIZE / 2 - north * pixels_per_m,
        radius=max(2.0, accuracy * pixels_per_m),
        scale_m=reach,
    )
