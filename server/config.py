"""Settings read from the environment, with embedded defaults that need nothing installed."""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import make_url

from worker.face.limits import LivenessLimits, QualityLimits, Thresholds

PREFIX = "FIELDCHECK_"
# Lists count their rows up to this many and say "more than" past it (server.db.bounded_count): a county's
# 150,000 people took longer to count than to page.
COUNT_UP_TO = 10_000
T = TypeVar("T")


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


_WHERE_IS_IT = (
    f"set {PREFIX}INSTANCE_PATH to your deployment's instance folder, or run `fieldcheck init-db` to create a new one"
)


def _env(name: str) -> str | None:
    return os.environ.get(PREFIX + name) or None


def decode_data_key(text: str) -> bytes:
    """A data key as FIELDCHECK_DATA_KEY gives it: base64 of 32 bytes."""
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}DATA_KEY must be base64") from exc
    if len(key) != 32:
        raise ConfigError(f"{PREFIX}DATA_KEY must decode to 32 bytes, got {len(key)}")
    return key


def _proxies() -> int:
    raw = _env("PROXIES") or "0"
    if not raw.isdigit() or int(raw) > 5:
        raise ConfigError(f"{PREFIX}PROXIES must be how many proxies stand in front, 0 to 5")
    return int(raw)


def _section(cls: type[T], prefix: str) -> T:
    """Override a settings dataclass field by field from FIELDCHECK_<PREFIX>_<FIELD> variables."""
    defaults = cls()
    values = {}
    for f in fields(cls):
        name = f"{prefix}_{f.name.upper()}"
        raw = _env(name)
        if raw is None:
            continue
        kind = type(getattr(defaults, f.name))
        try:
            values[f.name] = kind(raw)
        except ValueError as exc:
            raise ConfigError(f"{PREFIX}{name} must be a {kind.__name__}, got {raw!r}") from exc
    return replace(defaults, **values)


class InstanceUse(StrEnum):
    """What a process may do with the embedded instance folder (its SQLite database and generated keys)."""

    # Set up a deployment: create the folder and its keys when missing (`init-db`, `demo`, the app servers).
    CREATE = "create"
    # Work on an existing deployment: refuse when its database or keys are missing, never make new keys.
    REQUIRE = "require"
    # Read no data (writing the OpenAPI document, benchmarks): throwaway keys, nothing written.
    NONE = "none"


def default_instance_path() -> Path:
    """The project's `instance/` in a source checkout (wherever the command runs from), else ./instance."""
    project = Path(__file__).resolve().parent.parent
    return project / "instance" if (project / "pyproject.toml").is_file() else Path.cwd() / "instance"


def _instance_secret(instance: Path, filename: str, use: InstanceUse) -> str:
    """A random key kept in the instance folder: safe for the embedded default, never a constant."""
    path = instance / filename
    if not path.exists():
        if use == InstanceUse.NONE:
            return base64.b64encode(secrets.token_bytes(32)).decode()
        if use == InstanceUse.REQUIRE:
            # A fresh key next to an existing database would make everything encrypted unreadable.
            raise ConfigError(f"the instance folder {instance} has no {filename}; {_WHERE_IS_IT}")
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.b64encode(secrets.token_bytes(32)).decode())
    return path.read_text().strip()


@dataclass(frozen=True)
class TokenLifetimes:
    staff_hours: int = 12
    device_days: int = 365
    activation_code_hours: int = 72
    # The console's cookie session ends after this long without a request (an office PC left unlocked).
    console_idle_minutes: int = 30


@dataclass(frozen=True)
class FaceThresholds:
    """Distances between 128-d templates; strict defaults because dlib is weaker on Chinese faces."""

    # Fused check-in distances (mean of the 3 closest frame × template pairs; enrolment templates
    # averaged over the photo and its mirror image, worker.face.encode.encode_enrolment_face).
    # Measured on East Asian faces (`fieldcheck bench matching`, one occasion): with a cohort,
    # accept needs both distance <= accept and T-norm <= norm_accept, or distance <= accept_close
    # alone (a look-alike in the county no longer sends a close match to review): FAR 0.07 % for
    # a stranger from outside the county, 0.03 % for one enrolled in it, genuine 89.5 % verified.
    # Without a cohort the raw distance decides: 0.37 is the loosest within FAR 0.1 % (0.38
    # accepted 0.14 %); `fieldcheck calibrate` on the set's pairs recommends 0.37 too.
    accept: float = 0.47
    review: float = 0.55
    accept_without_cohort: float = 0.37
    accept_close: float = 0.35
    duplicate: float = 0.50
    # With a cohort (the county's other enrolled people), a check-in is decided on its T-normed
    # score: how many cohort standard deviations closer than the cohort the person's templates are.
    norm_accept: float = -2.65
    norm_review: float = -1.0
    # Duplicate search: T-normed over the county's identities; at most this many candidates.
    norm_duplicate: float = -3.2
    max_duplicate_candidates: int = 3

    @property
    def limits(self) -> Thresholds:
        """The thresholds a check-in's match is decided by (worker.face.matching.decide)."""
        return Thresholds(
            accept=self.accept,
            review=self.review,
            norm_accept=self.norm_accept,
            norm_review=self.norm_review,
            cohort_min=self.cohort_min,
            accept_without_cohort=self.accept_without_cohort,
            accept_close=self.accept_close,
        )

    # Fewer cohort identities than this give no stable spread: a county with fewer borrows its
    # region's people (templates.cohort_gallery); with fewer in all, the raw distance decides.
    cohort_min: int = 20
    # Cohort identities drawn per check-in: the spread is stable long before a county's size.
    cohort_size: int = 500
    # Templates kept from verified check-ins per person (oldest dropped; enrolment photos always stay).
    checkin_templates: int = 2


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 8 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_photos_per_beneficiary: int = 5


@dataclass(frozen=True)
class CheckinSettings:
    """Liveness check-ins: gentle challenges, bounded uploads, and the failure rules peers use."""

    challenge_seconds: int = 120
    actions: str = "blink,turn_left,turn_right,open_mouth,nod"
    min_actions: int = 2
    max_actions: int = 3
    min_frames: int = 5
    max_frames: int = 30
    max_frame_bytes: int = 1_500_000
    max_frame_pixels: int = 4_000_000
    # At most this many failures in the window, then a lockout (AWS advises 5, then 30–60 minutes).
    max_failures: int = 5
    failure_window_minutes: int = 30
    lockout_minutes: int = 60
    # This many failures in a cycle send the person to assisted verification by a human.
    failures_before_review: int = 3
    # At most this many faces encoded per check-in to prove one person throughout (each costs about
    # 10 ms): the matched one, every one that performed an action, one of every other part of the
    # session (server/services/verification.py).
    identity_frames: int = 8
    # Largest distance between the matched face and any other encoded face for one person. dlib's
    # descriptors of one person's frames in one session (turned, eyes shut, mouth open) spread more
    # than two photos matched at the accept threshold: up to `same_person` is one person, up to
    # `same_person_review` a person looks, beyond it the person changed.
    same_person: float = 0.60
    same_person_review: float = 0.70
    # Each colour of the colour-light challenge stays on screen this long (the phone captures two
    # frames per colour after skipping the first ~200 ms).
    light_step_ms: int = 700

    @property
    def action_list(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in self.actions.split(",") if a.strip())


@dataclass(frozen=True)
class VisitSettings:
    """Home visits: the fraud-signal thresholds field-data tools use, and the size of one sync."""

    # A visit whose every GPS fix lies farther than this from the registered home was not at the home.
    home_radius_m: float = 300.0
    # ODK and KoboToolbox warn above 100 m: such a fix cannot place the worker at one house.
    poor_accuracy_m: float = 100.0
    # Faster than a car on county roads between two visits of one worker.
    max_speed_kmh: float = 120.0
    # Desk clustering: this many households "visited" within the radius and the window, away from their homes.
    cluster_radius_m: float = 30.0
    cluster_window_minutes: int = 60
    cluster_min_households: int = 3
    # Device clock this far from the server's (or a visit ending this far in the future) is a signal.
    clock_skew_minutes: int = 15
    batch_limit: int = 100
    max_photos: int = 10


@dataclass(frozen=True)
class SuspensionSettings:
    """Notices and appeals: peers give weeks, not days, to contest a suspension."""

    appeal_days: int = 60


@dataclass(frozen=True)
class CycleSettings:
    """Check-in cycles: the defaults a new cycle gets, and the offices' clock."""

    grace_days: int = 15
    # Dates (opening days, deadlines) are the offices' local dates; China has one offset and no DST.
    utc_offset_hours: int = 8


@dataclass(frozen=True)
class RateLimitSettings:
    """Failed logins and activations allowed per window (flask-limiter syntax), and the counters' storage."""

    # Empty: Redis when the broker is Redis (shared by every API process), else memory (one process).
    storage_url: str = ""
    login_per_account: str = "10 per 15 minutes"
    login_per_address: str = "30 per 15 minutes"
    activation_per_address: str = "10 per 15 minutes"


@dataclass(frozen=True)
class RetentionSettings:
    """How long biometric objects are kept (PIPL art. 19: no longer than the purpose needs; README)."""

    # After the verdict: long enough to contest it (a suspension's appeal window is 60 days) with margin.
    checkin_frame_days: int = 90
    # Two years: a visit is the evidence behind a finding, an annual eligibility review and its audit.
    visit_photo_days: int = 730
    # After termination: a year covers an appeal, administrative reconsideration (60 days) and a lawsuit
    # (6 months), any of which may restore the person and need their face again.
    enrolment_photo_days_after_termination: int = 365
    # Objects of each kind removed per run at most; the duty runs hourly and catches up.
    batch: int = 5000


REMINDER_SENDERS = ("log", "webhook")


@dataclass(frozen=True)
class ReminderSettings:
    """Reminders before a cycle's deadline and when it is overdue, and how they are sent."""

    days_before: str = "14,7,1"
    sender: str = "log"
    # An SMS gateway's endpoint that takes a JSON POST per reminder (the `webhook` sender).
    webhook_url: str = ""
    webhook_timeout_seconds: float = 10.0
    # HTTP retries inside one attempt (connection errors, 429 and 5xx), with backoff.
    webhook_retries: int = 3
    # Attempts (one per run of the reminders duty) before a reminder is marked failed.
    max_attempts: int = 3

    @property
    def steps(self) -> tuple[int, ...]:
        """Days before the deadline that have a reminder, farthest first."""
        return tuple(sorted({int(d) for d in self.days_before.split(",") if d.strip()}, reverse=True))


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    storage_url: str
    broker_url: str
    secret_key: str
    data_key: bytes
    tokens: TokenLifetimes = field(default_factory=TokenLifetimes)
    # Short, because a heartbeat renews it while a task works: a killed worker's row is free soon.
    task_lease_seconds: int = 15
    count_up_to: int = COUNT_UP_TO
    # How many proxies stand in front and set X-Forwarded-For, -Proto and -Host. Behind one, every request
    # comes from the proxy's address: unless the app takes the client's from the header, throttling "per
    # address" counts every phone and office together. 0: clients connect directly, and a header a client
    # sets itself is ignored (it could otherwise name a new address for every guess).
    proxies: int = 0
    face: FaceThresholds = field(default_factory=FaceThresholds)
    uploads: UploadLimits = field(default_factory=UploadLimits)
    quality: QualityLimits = field(default_factory=QualityLimits)
    checkin: CheckinSettings = field(default_factory=CheckinSettings)
    liveness: LivenessLimits = field(default_factory=LivenessLimits)
    visits: VisitSettings = field(default_factory=VisitSettings)
    suspension: SuspensionSettings = field(default_factory=SuspensionSettings)
    cycles: CycleSettings = field(default_factory=CycleSettings)
    reminders: ReminderSettings = field(default_factory=ReminderSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    ratelimit: RateLimitSettings = field(default_factory=lambda: RateLimitSettings(storage_url="memory://"))

    @property
    def embedded(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, instance_path: Path | None = None, *, use: InstanceUse = InstanceUse.CREATE) -> Settings:
        """Build settings from FIELDCHECK_* variables; embedded defaults live in the instance folder.

        The instance path is resolved once, to an absolute path, so a later chdir cannot move it."""
        instance = Path(_env("INSTANCE_PATH") or instance_path or default_instance_path()).resolve()
        database_url = _env("DATABASE_URL") or f"sqlite:///{instance / 'fieldcheck.db'}"
        embedded = database_url.startswith("sqlite")
        if embedded and use == InstanceUse.REQUIRE:
            database = make_url(database_url).database
            if not database or not Path(database).is_file():
                raise ConfigError(f"no FieldCheck database at {database or database_url}; {_WHERE_IS_IT}")
        secret_key = _env("SECRET_KEY")
        data_key_b64 = _env("DATA_KEY")
        if not embedded and not (secret_key and data_key_b64):
            raise ConfigError(
                f"{PREFIX}SECRET_KEY and {PREFIX}DATA_KEY must be set when the database is not the embedded SQLite"
            )
        secret_key = secret_key or _instance_secret(instance, "secret.key", use)
        data_key = decode_data_key(data_key_b64 or _instance_secret(instance, "data.key", use))
        reminders = _section(ReminderSettings, "REMINDER")
        if reminders.sender not in REMINDER_SENDERS:
            raise ConfigError(f"{PREFIX}REMINDER_SENDER must be one of {', '.join(REMINDER_SENDERS)}")
        if reminders.sender == "webhook" and not reminders.webhook_url:
            raise ConfigError(f"{PREFIX}REMINDER_WEBHOOK_URL must be set for the webhook sender")
        if not all(day.strip().isdigit() for day in reminders.days_before.split(",")):
            raise ConfigError(f"{PREFIX}REMINDER_DAYS_BEFORE must be comma-separated whole days, like 14,7,1")
        face = _section(FaceThresholds, "FACE")
        if not face.accept_close <= face.accept_without_cohort <= face.accept <= face.review:
            raise ConfigError(
                f"{PREFIX}FACE_ACCEPT_CLOSE <= {PREFIX}FACE_ACCEPT_WITHOUT_COHORT <= {PREFIX}FACE_ACCEPT "
                f"<= {PREFIX}FACE_REVIEW must hold"
            )
        if not face.norm_accept < face.norm_review:
            # Without the gap there is no review band for a person to catch the uncertain faces.
            raise ConfigError(f"{PREFIX}FACE_NORM_ACCEPT must be below {PREFIX}FACE_NORM_REVIEW")
        if face.cohort_min < 3:
            raise ConfigError(f"{PREFIX}FACE_COHORT_MIN must be at least 3: a spread needs people")
        broker_url = _env("BROKER_URL") or f"sqla+sqlite:///{instance / 'broker.db'}"
        ratelimit = _section(RateLimitSettings, "RATELIMIT")
        if not ratelimit.storage_url:
            shared = broker_url if broker_url.startswith(("redis://", "rediss://")) else "memory://"
            ratelimit = replace(ratelimit, storage_url=shared)
        return cls(
            instance_path=instance,
            database_url=database_url,
            storage_url=_env("STORAGE_URL") or f"file://{instance / 'objects'}",
            broker_url=broker_url,
            secret_key=secret_key,
            data_key=data_key,
            tokens=_section(TokenLifetimes, "TOKEN"),
            face=face,
            uploads=_section(UploadLimits, "UPLOAD"),
            quality=_section(QualityLimits, "QUALITY"),
            checkin=_section(CheckinSettings, "CHECKIN"),
            liveness=_section(LivenessLimits, "LIVENESS"),
            visits=_section(VisitSettings, "VISIT"),
            suspension=_section(SuspensionSettings, "SUSPENSION"),
            cycles=_section(CycleSettings, "CYCLE"),
            reminders=reminders,
            retention=_section(RetentionSettings, "RETENTION"),
            ratelimit=ratelimit,
            task_lease_seconds=int(_env("TASK_LEASE_SECONDS") or 15),
            count_up_to=int(_env("COUNT_UP_TO") or COUNT_UP_TO),
            proxies=_proxies(),
        )
