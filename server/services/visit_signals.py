"""Location and fraud signals on home visits: pure functions of fixes, clocks and the worker's other visits.

Distances are geodesic on the WGS84 ellipsoid (geographiclib). Signals that involve two visits
(impossible travel, desk clusters) name the other visits as partners, so both sides get the flag
whichever of them the server happened to receive first: offline batches arrive out of order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from geographiclib.geodesic import Geodesic

from server.config import VisitSettings
from server.models.visit import VisitFlagCode


@dataclass(frozen=True)
class Fix:
    lat: float
    lon: float
    accuracy_m: float
    fix_time: datetime
    mock_location: bool = False


@dataclass(frozen=True)
class Place:
    """A visit as the signals see it: who was visited, when by the device's clock, and where."""

    visit_id: uuid.UUID
    household: str
    started_at: datetime
    ended_at: datetime
    fixes: tuple[Fix, ...]
    home: tuple[float, float] | None = None

    @property
    def best(self) -> Fix:
        return min(self.fixes, key=lambda f: f.accuracy_m)


@dataclass(frozen=True)
class Signal:
    code: VisitFlagCode
    details: dict[str, Any]
    partners: tuple[uuid.UUID, ...] = field(default=())


def distance_m(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """Geodesic distance in metres."""
    return Geodesic.WGS84.Inverse(a_lat, a_lon, b_lat, b_lon, Geodesic.DISTANCE)["s12"]


def _from_home(place: Place) -> float | None:
    if place.home is None:
        return None
    return min(distance_m(f.lat, f.lon, *place.home) for f in place.fixes)


def _at_home(place: Place, radius_m: float) -> bool:
    """Whether some fix places the worker at the registered home, within that fix's own uncertainty."""
    if place.home is None:
        return False
    return any(distance_m(f.lat, f.lon, *place.home) <= max(radius_m, f.accuracy_m) for f in place.fixes)


def far_from_home(place: Place, limits: VisitSettings) -> Signal | None:
    """Every fix lies farther from the registered home than the home radius."""
    nearest = _from_home(place)
    if nearest is None or nearest <= limits.home_radius_m:
        return None
    return Signal(VisitFlagCode.FAR_FROM_HOME, {"distance_m": round(nearest), "limit_m": limits.home_radius_m})


def poor_accuracy(place: Place, limits: VisitSettings) -> Signal | None:
    """Even the best fix cannot place the worker at one house."""
    best = place.best.accuracy_m
    if best <= limits.poor_accuracy_m:
        return None
    return Signal(VisitFlagCode.POOR_ACCURACY, {"best_accuracy_m": best, "limit_m": limits.poor_accuracy_m})


def mock_location(place: Place) -> Signal | None:
    """The device reported a fix from a mock-location provider (a fake-GPS app)."""
    mocked = sum(1 for f in place.fixes if f.mock_location)
    return Signal(VisitFlagCode.MOCK_LOCATION, {"mock_fixes": mocked}) if mocked else None


def clock_skew(
    place: Place, *, received_at: datetime, device_sent_at: datetime | None, limits: VisitSettings
) -> Signal | None:
    """The device clock disagrees with the server's: visits can be back-dated or forward-dated at will.

    Hours offline are normal, so the age of a visit is no signal; the device's clock at sending
    compared with the server's receipt is, and so is a visit that ends after it was received.
    """
    limit = limits.clock_skew_minutes * 60
    details: dict[str, Any] = {"limit_s": limit}
    if device_sent_at is not None:
        offset = (device_sent_at - received_at).total_seconds()
        if abs(offset) > limit:
            details["device_offset_s"] = round(offset)
    ahead = (place.ended_at - received_at).total_seconds()
    if ahead > limit:
        details["ends_after_receipt_s"] = round(ahead)
    return Signal(VisitFlagCode.CLOCK_SKEW, details) if len(details) > 1 else None


def _leg(earlier: Place, later: Place, limits: VisitSettings) -> dict[str, Any] | None:
    a, b = earlier.best, later.best
    # Within the two fixes' uncertainty the worker may not have moved at all.
    moved = max(0.0, distance_m(a.lat, a.lon, b.lat, b.lon) - a.accuracy_m - b.accuracy_m)
    gap = max((later.started_at - earlier.ended_at).total_seconds(), 1.0)
    speed = moved / gap * 3.6
    if speed <= limits.max_speed_kmh:
        return None
    return {"distance_m": round(moved), "gap_s": round(gap), "speed_kmh": round(speed, 1)}


def impossible_travel(
    place: Place, *, before: Place | None, after: Place | None, limits: VisitSettings
) -> Signal | None:
    """Getting here from the worker's previous visit, or on to the next, would need more than the maximum speed."""
    legs, partners = [], []
    for earlier, later, other in ((before, place, before), (place, after, after)):
        if other is None:
            continue
        leg = _leg(earlier, later, limits)
        if leg is not None:
            legs.append({"other_visit_id": str(other.visit_id), **leg})
            partners.append(other.visit_id)
    if not legs:
        return None
    return Signal(VisitFlagCode.IMPOSSIBLE_TRAVEL, {"legs": legs, "limit_kmh": limits.max_speed_kmh}, tuple(partners))


def desk_cluster(place: Place, nearby: list[Place], limits: VisitSettings) -> Signal | None:
    """Several households "visited" from one spot within a short time, none of them at its own home."""
    if _at_home(place, limits.cluster_radius_m):
        return None
    here = place.best
    window = limits.cluster_window_minutes * 60
    members = [
        other
        for other in nearby
        if other.visit_id != place.visit_id
        and abs((other.started_at - place.started_at).total_seconds()) <= window
        and distance_m(here.lat, here.lon, other.best.lat, other.best.lon) <= limits.cluster_radius_m
        and not _at_home(other, limits.cluster_radius_m)
    ]
    households = {place.household} | {m.household for m in members}
    if len(households) < limits.cluster_min_households:
        return None
    return Signal(
        VisitFlagCode.DESK_CLUSTER,
        {
            "households": len(households),
            "visit_ids": sorted(str(m.visit_id) for m in members),
            "radius_m": limits.cluster_radius_m,
            "window_minutes": limits.cluster_window_minutes,
        },
        tuple(m.visit_id for m in members),
    )


def outside_region(worker_region: str, village_code: str) -> Signal | None:
    """The visited person lives outside the worker's region."""
    if village_code.startswith(worker_region):
        return None
    return Signal(VisitFlagCode.OUTSIDE_REGION, {"worker_region_code": worker_region})


def assess(
    place: Place,
    *,
    before: Place | None,
    after: Place | None,
    nearby: list[Place],
    received_at: datetime,
    device_sent_at: datetime | None,
    worker_region: str,
    village_code: str,
    limits: VisitSettings,
) -> list[Signal]:
    """Every signal that fires for this visit."""
    signals = [
        far_from_home(place, limits),
        poor_accuracy(place, limits),
        mock_location(place),
        impossible_travel(place, before=before, after=after, limits=limits),
        desk_cluster(place, nearby, limits),
        clock_skew(place, received_at=received_at, device_sent_at=device_sent_at, limits=limits),
        outside_region(worker_region, village_code),
    ]
    return [s for s in signals if s is not None]
