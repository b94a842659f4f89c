"""Staff accounts."""

from __future__ import annotations

from sqlalchemy import select

from server.context import Ctx
from server.models import Region, StaffRole, StaffUser
from server.services import passwords
from server.services.audit import Actor, record
from server.services.auth import hash_password
from server.services.errors import DomainError

_PASSWORD_MESSAGES = {
    "too_short": f"passwords need at least {passwords.MIN_LENGTH} characters",
    "common": "this password is among the most common ones; choose another",
    "trivial": "this password is a repeated or running pattern; choose another",
}


def check_password(password: str) -> None:
    """Refuse a password that is short, common or trivial (422 with the reason code)."""
    reason = passwords.refusal(password)
    if reason is not None:
        raise DomainError.field("password", reason, _PASSWORD_MESSAGES[reason])


def create_staff_user(
    ctx: Ctx,
    *,
    actor: Actor,
    username: str,
    password: str,
    role: StaffRole,
    region_code: str,
    display_name: str | None = None,
) -> StaffUser:
    """Create an account scoped to an existing region."""
    check_password(password)
    if ctx.session.get(Region, region_code) is None:
        raise DomainError.field("region_code", "unknown_region")
    if ctx.session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise DomainError.field("username", "already_exists")
    user = StaffUser(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        region_code=region_code,
    )
    ctx.session.add(user)
    ctx.session.flush()
    record(
        ctx.session,
        actor=actor,
        action="staff.created",
        object_type="staff_user",
        object_id=user.id,
        region_code=region_code,
        details={"username": username, "role": role.value},
    )
    return user
