"""Staff accounts."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from server.context import Ctx
from server.models import Region, StaffRole, StaffUser
from server.services import passwords
from server.services.audit import Actor, record
from server.services.auth import hash_password, verify_password
from server.services.errors import DomainError
from server.services.regions import in_scope, within

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


def change_password(ctx: Ctx, *, actor: Actor, current: str, new: str) -> StaffUser:
    """The signed-in person replaces their own password, proving they know the current one."""
    user = ctx.session.get(StaffUser, uuid.UUID(actor.id))
    if not verify_password(user, current):
        raise DomainError.field("current_password", "wrong_password", "the current password is not right")
    reason = passwords.refusal(new)
    if reason is not None:
        raise DomainError.field("new_password", reason, _PASSWORD_MESSAGES[reason])
    user.password_hash = hash_password(new)
    record(
        ctx.session,
        actor=actor,
        action="staff.password_changed",
        object_type="staff_user",
        object_id=user.id,
        region_code=user.region_code,
    )
    return user


def reviewers_for(ctx: Ctx, *, region_code: str) -> list[StaffUser]:
    """Active supervisors and admins whose region holds `region_code`: who a case there may be assigned to."""
    users = ctx.session.scalars(
        select(StaffUser)
        .where(StaffUser.is_active, StaffUser.role.in_((StaffRole.SUPERVISOR, StaffRole.ADMIN)))
        .order_by(StaffUser.username)
    )
    return [user for user in users if within(user.region_code, region_code)]


def field_workers_in(ctx: Ctx, *, region_code: str) -> list[StaffUser]:
    """Active field workers whose region lies within `region_code`: who a visit there may be ordered from."""
    return list(
        ctx.session.scalars(
            select(StaffUser)
            .where(
                StaffUser.is_active,
                StaffUser.role == StaffRole.FIELD_WORKER,
                in_scope(StaffUser.region_code, region_code),
            )
            .order_by(StaffUser.username)
        )
    )


def list_staff(ctx: Ctx, *, actor: Actor) -> list[StaffUser]:
    """Accounts in the actor's region, by username."""
    return list(
        ctx.session.scalars(
            select(StaffUser).where(in_scope(StaffUser.region_code, actor.region_code)).order_by(StaffUser.username)
        )
    )
