"""Staff login, beneficiary-device activation, and bearer tokens for both."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Row, bindparam, exists, select
from sqlalchemy.orm import Session, load_only

from server.config import Settings
from server.context import Ctx
from server.db import bounded_count
from server.models import Beneficiary, BeneficiaryStatus, Device, RevokedToken, StaffUser, utcnow
from server.services import consent
from server.services.audit import Actor, record
from server.services.errors import DomainError, NotFound
from server.services.regions import in_scope
from server.services.staff_notifications import notify_staff
from server.sqlfuncs import insert_ignoring_conflicts

_hasher = PasswordHasher()
TOKEN_ALGORITHM = "HS256"
TOKEN_ISSUER = "fieldcheck"
# Unambiguous characters (no 0/O, 1/I/L) because a relative reads the code off paper to type it in.
ACTIVATION_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
ACTIVATION_LENGTH = 12


class AuthError(Exception):
    """Authentication failed; .reason is machine-readable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_at: datetime
    actor: Actor


def hash_password(password: str) -> str:
    """An argon2id hash of a password."""
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether a password fits its stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_stamp(user: StaffUser) -> str:
    """A short fingerprint of the account's password hash: a console session carrying an older stamp is over,
    so changing a password signs out every other session of that account."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


@cache
def _dummy_hash() -> str:
    # Verifying against a throwaway hash keeps unknown usernames as slow as wrong passwords; made on
    # first use, so importing the app (every command, every API worker) computes no hash.
    return _hasher.hash(secrets.token_hex(16))


def _issue(settings: Settings, actor: Actor, lifetime: timedelta) -> IssuedToken:
    # PyJWT loads cryptography's X.509 stack (a tenth of a second): only a process that handles tokens pays.
    import jwt

    now = utcnow()
    expires_at = now + lifetime
    claims = {
        "iss": TOKEN_ISSUER,
        "sub": f"{actor.kind}:{actor.id}",
        # To the microsecond, so "every token issued before this reset" is exact (a whole-second
        # iat would let a token from the same second survive, or refuse the next login).
        "iat": now.timestamp(),
        "exp": expires_at,
        "jti": uuid.uuid4().hex,
    }
    return IssuedToken(jwt.encode(claims, settings.secret_key, algorithm=TOKEN_ALGORITHM), expires_at, actor)


def revoke_all_tokens(user: StaffUser) -> None:
    """Refuse every token the person holds now (disabled account, password reset)."""
    user.tokens_valid_after = utcnow()


def issue_staff_token(ctx: Ctx, *, user: StaffUser) -> IssuedToken:
    """A fresh token for a staff member (at login, after changing their own password)."""
    return _issue(ctx.settings, staff_actor(user), timedelta(hours=ctx.settings.tokens.staff_hours))


def staff_actor(user: StaffUser | Row) -> Actor:
    """The actor a staff member acts as (from their row, or from the id, role and region_code columns)."""
    return Actor(kind="staff", id=str(user.id), role=user.role.value, region_code=user.region_code)


def device_actor(device: Device, beneficiary: Beneficiary) -> Actor:
    return Actor(
        kind="device", id=str(device.id), region_code=beneficiary.village_code, beneficiary_id=str(beneficiary.id)
    )


def login(ctx: Ctx, *, username: str, password: str) -> IssuedToken:
    """Check a staff password and issue a token, recording the login time and its audit entry.

    A refusal raises AuthError and leaves nothing written: the caller records the failure in a unit
    of its own (`record_failed_login`), since the login's unit rolls back."""
    user = ctx.session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        password_matches(_dummy_hash(), password)
        raise AuthError("invalid_credentials")
    if not password_matches(user.password_hash, password) or not user.is_active:
        raise AuthError("invalid_credentials")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    actor = staff_actor(user)
    record(ctx.session, actor=actor, action="staff.login", object_type="staff_user", object_id=user.id)
    return issue_staff_token(ctx, user=user)


def record_failed_login(ctx: Ctx, *, username: str, address: str | None) -> None:
    """Audit a refused login (run it in its own unit of work, after the login's rolled back).

    An unknown username is kept only as its HMAC: what was typed may be a password in the wrong box,
    and the HMAC still shows many attempts on one name.
    """
    user = ctx.session.scalar(select(StaffUser).where(StaffUser.username == username))
    record(
        ctx.session,
        actor=Actor(kind="anonymous", id=None),
        action="staff.login_failed",
        object_type="staff_user",
        object_id=user.id if user else "unknown:" + ctx.cipher.index(username)[:16],
        region_code=user.region_code if user else None,
        details={"address": address, "known_account": user is not None},
    )


def issue_activation_code(
    ctx: Ctx,
    *,
    actor: Actor,
    beneficiary: Beneficiary,
    label: str | None,
) -> tuple[Device, str]:
    """Create a pending device and the one-time code that activates it; the code is stored only as an HMAC.

    A person has one phone: the new code replaces every earlier device and code (a lost phone stops
    working), and when one of them was live the region's supervisors are told.
    """
    code = "".join(secrets.choice(ACTIVATION_ALPHABET) for _ in range(ACTIVATION_LENGTH))
    now = utcnow()
    others = _live_devices(ctx.session, beneficiary.id)
    replaced = ctx.session.scalars(
        select(Device).where(Device.beneficiary_id == beneficiary.id, Device.revoked_at.is_(None))
    ).all()
    for old in replaced:
        old.revoked_at = now
        old.activation_code_index = None
    device = Device(
        beneficiary_id=beneficiary.id,
        issued_by=uuid.UUID(actor.id),
        activation_code_index=ctx.cipher.index(code),
        activation_expires_at=now + timedelta(hours=ctx.settings.tokens.activation_code_hours),
        label=label,
    )
    ctx.session.add(device)
    ctx.session.flush()
    record(
        ctx.session,
        actor=actor,
        action="device.code_issued",
        object_type="device",
        object_id=device.id,
        region_code=beneficiary.village_code,
        details={"beneficiary_id": str(beneficiary.id), "replaced_devices": [str(d.id) for d in replaced]},
    )
    if others:
        # A new phone is how a person's check-ins can be taken over: the supervisors are told.
        notify_staff(
            ctx.session,
            kind="device_added",
            beneficiary=beneficiary,
            actor=actor,
            details={"device_id": str(device.id), "other_devices": [str(d) for d in others]},
        )
    return device, code


def _live_devices(session: Session, beneficiary_id: uuid.UUID) -> list[uuid.UUID]:
    """Devices that act for the person or whose code can still be redeemed."""
    now = utcnow()
    return list(
        session.scalars(
            select(Device.id).where(
                Device.beneficiary_id == beneficiary_id,
                Device.revoked_at.is_(None),
                Device.activated_at.is_not(None) | (Device.activation_expires_at > now),
            )
        )
    )


def normalise_activation_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def activate_device(ctx: Ctx, *, code: str, consent_version: str) -> IssuedToken:
    """Redeem a one-time code: it works once, before it expires, for an active beneficiary.

    Redeeming records the person's biometric consent to the text version shown: no consent, no token.
    """
    consent.check_version(consent_version)
    device = ctx.session.scalar(
        select(Device).where(Device.activation_code_index == ctx.cipher.index(normalise_activation_code(code)))
    )
    if device is None or device.revoked_at is not None:
        raise AuthError("invalid_activation_code")
    if device.activation_expires_at < utcnow():
        raise AuthError("activation_code_expired")
    beneficiary = ctx.session.get(Beneficiary, device.beneficiary_id)
    if beneficiary.status == BeneficiaryStatus.TERMINATED:
        raise AuthError("beneficiary_terminated")
    device.activation_code_index = None
    device.activated_at = utcnow()
    actor = device_actor(device, beneficiary)
    record(
        ctx.session,
        actor=actor,
        action="device.activated",
        object_type="device",
        object_id=device.id,
        region_code=beneficiary.village_code,
    )
    consent.record_consent(ctx.session, actor=actor, device=device, version=consent_version)
    return _issue(ctx.settings, actor, timedelta(days=ctx.settings.tokens.device_days))


def _claims(settings: Settings, token: str) -> dict:
    import jwt

    try:
        return jwt.decode(
            token,
            settings.secret_key,
            algorithms=[TOKEN_ALGORITHM],
            issuer=TOKEN_ISSUER,
            options={"require": ["exp", "sub", "iat"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("token_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError("invalid_token") from exc


def _subject(claims: dict) -> tuple[str, uuid.UUID]:
    kind, _, raw_id = claims["sub"].partition(":")
    try:
        return kind, uuid.UUID(raw_id)
    except ValueError as exc:
        raise AuthError("invalid_token") from exc


# Every staff request through the API runs this, so it is built once; columns, not the row, whose password hash
# and the rest of it no request needs.
_STAFF_TOKEN = select(
    StaffUser.id,
    StaffUser.role,
    StaffUser.region_code,
    StaffUser.is_active,
    StaffUser.tokens_valid_after,
    exists().where(RevokedToken.jti == bindparam("jti")).label("revoked"),
).where(StaffUser.id == bindparam("staff"))

# Every phone's request runs this, so it is built once (its cache key and compiled form are reused).
# Columns, not the person's row: loading it would decrypt their identity fields on every request.
_DEVICE_TOKEN = (
    select(
        Device.revoked_at,
        Device.activated_at,
        Beneficiary.id,
        Beneficiary.village_code,
        exists().where(RevokedToken.jti == bindparam("jti")).label("revoked"),
    )
    .join(Beneficiary, Beneficiary.id == Device.beneficiary_id)
    .where(Device.id == bindparam("device"))
)


def actor_from_token(ctx: Ctx, *, token: str) -> Actor:
    """Verify a bearer token and load who it speaks for, refusing disabled accounts, revoked devices and
    logged-out or reset tokens. One query by primary key (plus an indexed existence test) per request."""
    claims = _claims(ctx.settings, token)
    kind, subject_id = _subject(claims)
    issued_at = datetime.fromtimestamp(claims["iat"], UTC)
    jti = claims.get("jti")
    # A token issued before token ids existed (jti None) matches no revoked id.
    token_id = jti if isinstance(jti, str) else None
    if kind == "staff":
        row = ctx.session.execute(_STAFF_TOKEN, {"staff": subject_id, "jti": token_id}).one_or_none()
        if row is None or not row.is_active:
            raise AuthError("account_disabled")
        if row.revoked or (row.tokens_valid_after is not None and issued_at < row.tokens_valid_after):
            raise AuthError("token_revoked")
        return staff_actor(row)
    if kind == "device":
        row = ctx.session.execute(_DEVICE_TOKEN, {"device": subject_id, "jti": token_id}).one_or_none()
        if row is None or row.revoked_at is not None or row.activated_at is None:
            raise AuthError("device_revoked")
        if row.revoked:
            raise AuthError("token_revoked")
        return Actor(kind="device", id=str(subject_id), region_code=row.village_code, beneficiary_id=str(row.id))
    raise AuthError("invalid_token")


def logout(ctx: Ctx, *, actor: Actor, token: str) -> None:
    """Revoke the token this request carries; it stays refused until it would have expired."""
    session = ctx.session
    claims = _claims(ctx.settings, token)
    jti = claims.get("jti")
    if not isinstance(jti, str):
        raise DomainError.field("authorization", "token_without_id", "this token predates logout; let it expire")
    session.execute(
        insert_ignoring_conflicts(session, RevokedToken)
        .values(jti=jti, revoked_at=utcnow(), expires_at=datetime.fromtimestamp(claims["exp"], UTC))
        .on_conflict_do_nothing(index_elements=["jti"])
    )
    record(
        session,
        actor=actor,
        action=f"{actor.kind}.logout",
        object_type="staff_user" if actor.kind == "staff" else "device",
        object_id=actor.id,
        region_code=actor.region_code,
    )


def revoke_device(ctx: Ctx, *, actor: Actor, device: Device, beneficiary: Beneficiary, reason: str) -> None:
    """Stop a phone from acting for its person (lost, sold, or issued by mistake)."""
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        device.activation_code_index = None
    record(
        ctx.session,
        actor=actor,
        action="device.revoked",
        object_type="device",
        object_id=device.id,
        region_code=beneficiary.village_code,
        reason=reason,
        details={"beneficiary_id": str(beneficiary.id)},
    )


def devices_of(ctx: Ctx, *, beneficiary_id: uuid.UUID) -> list[Device]:
    return list(
        ctx.session.scalars(select(Device).where(Device.beneficiary_id == beneficiary_id).order_by(Device.created_at))
    )


DEVICE_STATES = ("active", "pending", "revoked")


def device_ids_of(ctx: Ctx, *, beneficiary_id: uuid.UUID) -> list[uuid.UUID]:
    """Every phone and code ever issued for the person, revoked ones included."""
    return list(ctx.session.scalars(select(Device.id).where(Device.beneficiary_id == beneficiary_id)))


def list_devices(
    ctx: Ctx,
    *,
    actor: Actor,
    beneficiary_id: uuid.UUID | None = None,
    state: str | None = None,
    offset: int,
    limit: int,
    count_up_to: int | None = None,
) -> tuple[list[tuple[Device, Beneficiary]], int]:
    """Phones and codes of people in the actor's region (of one person, or in one state: active,
    pending = a code not yet redeemed, revoked), newest first, with their person; a page and the total
    (see bounded_count)."""
    query = (
        select(Device, Beneficiary)
        .join(Beneficiary, Beneficiary.id == Device.beneficiary_id)
        .where(in_scope(Beneficiary.village_code, actor.region_code))
        # A list names the person; their encrypted columns stay unread.
        .options(load_only(Beneficiary.id, Beneficiary.name, Beneficiary.village_code))
    )
    if beneficiary_id is not None:
        query = query.where(Device.beneficiary_id == beneficiary_id)
    if state == "revoked":
        query = query.where(Device.revoked_at.is_not(None))
    elif state in ("active", "pending"):
        activated = Device.activated_at.is_not(None) if state == "active" else Device.activated_at.is_(None)
        query = query.where(Device.revoked_at.is_(None), activated)
    total = bounded_count(ctx.session, query.with_only_columns(Device.id), count_up_to)
    rows = ctx.session.execute(query.order_by(Device.created_at.desc(), Device.id.desc()).offset(offset).limit(limit))
    return [(device, person) for device, person in rows], total


def get_device(ctx: Ctx, *, beneficiary: Beneficiary, device_id: uuid.UUID) -> Device:
    device = ctx.session.scalar(select(Device).where(Device.id == device_id, Device.beneficiary_id == beneficiary.id))
    if device is None:
        raise NotFound("device not found", {"device_id": ["not_found"]})
    return device
