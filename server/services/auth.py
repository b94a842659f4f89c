"""Staff login, beneficiary-device activation, and bearer tokens for both."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from server.config import Settings
from server.context import Ctx
from server.models import Beneficiary, BeneficiaryStatus, Device, StaffUser, utcnow
from server.services import consent
from server.services.audit import Actor, record

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


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_password(user: StaffUser, password: str) -> bool:
    """Whether the password is this account's."""
    return _password_matches(user.password_hash, password)


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
    now = utcnow()
    expires_at = now + lifetime
    claims = {"iss": TOKEN_ISSUER, "sub": f"{actor.kind}:{actor.id}", "iat": now, "exp": expires_at}
    return IssuedToken(jwt.encode(claims, settings.secret_key, algorithm=TOKEN_ALGORITHM), expires_at, actor)


def staff_actor(user: StaffUser) -> Actor:
    return Actor(kind="staff", id=str(user.id), role=user.role.value, region_code=user.region_code)


def device_actor(device: Device, beneficiary: Beneficiary) -> Actor:
    return Actor(
        kind="device", id=str(device.id), region_code=beneficiary.village_code, beneficiary_id=str(beneficiary.id)
    )


def login(ctx: Ctx, *, username: str, password: str) -> IssuedToken:
    """Check a staff password and issue a token; commits the login time and its audit entry."""
    user = ctx.session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        _password_matches(_dummy_hash(), password)
        raise AuthError("invalid_credentials")
    if not _password_matches(user.password_hash, password) or not user.is_active:
        raise AuthError("invalid_credentials")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    actor = staff_actor(user)
    record(ctx.session, actor=actor, action="staff.login", object_type="staff_user", object_id=user.id)
    return _issue(ctx.settings, actor, timedelta(hours=ctx.settings.tokens.staff_hours))


def issue_activation_code(
    ctx: Ctx,
    *,
    actor: Actor,
    beneficiary: Beneficiary,
    label: str | None,
) -> tuple[Device, str]:
    """Create a pending device and the one-time code that activates it; the code is stored only as an HMAC.

    A person has one phone: the new code replaces every earlier device and code (a lost phone stops working).
    """
    code = "".join(secrets.choice(ACTIVATION_ALPHABET) for _ in range(ACTIVATION_LENGTH))
    now = utcnow()
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
    return device, code


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


def actor_from_token(ctx: Ctx, *, token: str) -> Actor:
    """Verify a bearer token and load who it speaks for, refusing disabled accounts and revoked devices."""
    try:
        claims = jwt.decode(
            token,
            ctx.settings.secret_key,
            algorithms=[TOKEN_ALGORITHM],
            issuer=TOKEN_ISSUER,
            options={"require": ["exp", "sub"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("token_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError("invalid_token") from exc
    kind, _, raw_id = claims["sub"].partition(":")
    try:
        subject_id = uuid.UUID(raw_id)
    except ValueError as exc:
        raise AuthError("invalid_token") from exc
    if kind == "staff":
        user = ctx.session.get(StaffUser, subject_id)
        if user is None or not user.is_active:
            raise AuthError("account_disabled")
        return staff_actor(user)
    if kind == "device":
        device = ctx.session.get(Device, subject_id)
        if device is None or device.revoked_at is not None or device.activated_at is None:
            raise AuthError("device_revoked")
        return device_actor(device, ctx.session.get(Beneficiary, device.beneficiary_id))
    raise AuthError("invalid_token")
