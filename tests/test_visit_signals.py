"""Visit signals as pure functions: each fires on a constructed fraud and stays quiet on an honest visit."""

import uuid
from datetime import UTC, datetime, timedelta

from geographiclib.geodesic import Geodesic

from server.config import VisitSettings
from server.models import VisitFlagCode
from server.services import visit_signals as s

LIMITS = VisitSettings()
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOME = (27.83, 112.92)


def offset(point: tuple[float, float], metres: float, bearing: float = 90.0) -> tuple[float, float]:
    """A point `metres` from `point` on a bearing, computed with the geodesic library the code uses."""
    moved = Geodesic.WGS84.Direct(point[0], point[1], bearing, metres)
    return moved["lat2"], moved["lon2"]


def place(
    at: tuple[float, float] = HOME,
    *,
    start: datetime = T0,
    minutes: int = 15,
    accuracy: float = 8.0,
    mock: bool = False,
    home: tuple[float, float] | None = HOME,
    household: str | None = None,
) -> s.Place:
    return s.Place(
        visit_id=uuid.uuid4(),
        household=household or uuid.uuid4().hex,
        started_at=start,
        ended_at=start + timedelta(minutes=minutes),
        fixes=(s.Fix(at[0], at[1], accuracy, start + timedelta(minutes=1), mock),),
        home=home,
    )


def test_distance_is_geodesic():
    assert abs(s.distance_m(*HOME, *offset(HOME, 1000)) - 1000) < 0.01


def test_far_from_home():
    assert s.far_from_home(place(offset(HOME, 120)), LIMITS) is None
    signal = s.far_from_home(place(offset(HOME, 2500)), LIMITS)
    assert signal.code == VisitFlagCode.FAR_FROM_HOME
    assert 2490 < signal.details["distance_m"] < 2510
    # No registered home: nothing to compare with, so no signal.
    assert s.far_from_home(place(offset(HOME, 2500), home=None), LIMITS) is None


def test_poor_accuracy():
    assert s.poor_accuracy(place(accuracy=30), LIMITS) is None
    assert s.poor_accuracy(place(accuracy=450), LIMITS).details["best_accuracy_m"] == 450


def test_mock_location():
    assert s.mock_location(place()) is None
    assert s.mock_location(place(mock=True)).code == VisitFlagCode.MOCK_LOCATION


def test_clock_skew_is_the_device_clock_not_time_offline():
    visit = place(start=T0)
    # Synced six hours later with a correct clock: offline is normal.
    received = T0 + timedelta(hours=6)
    assert s.clock_skew(visit, received_at=received, device_sent_at=received, limits=LIMITS) is None
    skewed = s.clock_skew(visit, received_at=received, device_sent_at=received - timedelta(hours=2), limits=LIMITS)
    assert skewed.details["device_offset_s"] == -7200
    # A visit that ends after the server received it was forward-dated.
    future = s.clock_skew(place(start=T0 + timedelta(hours=3)), received_at=T0, device_sent_at=None, limits=LIMITS)
    assert future.code == VisitFlagCode.CLOCK_SKEW


def test_impossible_travel_looks_both_ways():
    first = place(HOME, start=T0, minutes=20)
    # 50 km in 10 minutes after the first visit ended: 300 km/h.
    jump = place(offset(HOME, 50_000), start=T0 + timedelta(minutes=30))
    signal = s.impossible_travel(jump, before=first, after=None, limits=LIMITS)
    assert signal.partners == (first.visit_id,)
    assert signal.details["legs"][0]["speed_kmh"] > 250
    # Received out of order: the earlier visit arriving second sees the same leg from the other side.
    assert s.impossible_travel(first, before=None, after=jump, limits=LIMITS).partners == (jump.visit_id,)
    # The same 50 km in an hour and a half on the road is honest.
    drive = place(offset(HOME, 50_000), start=T0 + timedelta(minutes=110))
    assert s.impossible_travel(drive, before=first, after=None, limits=LIMITS) is None


def test_desk_cluster_needs_several_households_away_from_their_homes():
    office = offset(HOME, 2000)
    homes = [offset(HOME, 500 * i, bearing=0) for i in range(3)]
    desk = [place(office, start=T0 + timedelta(minutes=10 * i), home=homes[i]) for i in range(3)]
    signal = s.desk_cluster(desk[2], desk[:2], LIMITS)
    assert signal.code == VisitFlagCode.DESK_CLUSTER
    assert signal.details["households"] == 3
    assert set(signal.partners) == {desk[0].visit_id, desk[1].visit_id}
    # Two households are not a cluster.
    assert s.desk_cluster(desk[1], desk[:1], LIMITS) is None
    # Neighbours in one building, each visited at their own door: honest.
    building = [offset(HOME, 6 * i) for i in range(3)]
    honest = [place(building[i], start=T0 + timedelta(minutes=10 * i), home=building[i]) for i in range(3)]
    assert s.desk_cluster(honest[2], honest[:2], LIMITS) is None
    # The same spot a day apart is outside the window.
    spread = [place(office, start=T0 + timedelta(days=i), home=homes[i]) for i in range(3)]
    assert s.desk_cluster(spread[2], spread[:2], LIMITS) is None


def test_outside_region():
    assert s.outside_region("431099001", "431099001001") is None
    assert s.outside_region("431099001", "431099002001").code == VisitFlagCode.OUTSIDE_REGION


def test_an_honest_visit_raises_nothing():
    before = place(offset(HOME, 800), start=T0 - timedelta(minutes=40))
    visit = place(offset(HOME, 10), start=T0)
    after = place(offset(HOME, 1500), start=T0 + timedelta(minutes=40))
    signals = s.assess(
        visit,
        before=before,
        after=after,
        nearby=[before, after],
        received_at=T0 + timedelta(hours=5),
        device_sent_at=T0 + timedelta(hours=5, seconds=20),
        worker_region="431099001",
        village_code="431099001001",
        limits=LIMITS,
    )
    assert signals == []
