"""Staff accounts: created, changed, disabled and reset by admins within their region, all audited."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.context import Ctx
from server.db import PageRequest, fetch_page
from server.models import Region, StaffRole, StaffUser
from server.services import passwords
from server.services.audit import Actor, record
from server.services.auth import hash_password, password_matches, revoke_all_tokens
from server.services.errors import DomainError, Forbidden, NotFound
from server.services.regions import in_scope, within

_PASSWORD_MESSAGES = {
    "too_short": f"passwords need at least {passwords.MIN_LENGTH} characters",
    "common": "this password is among the most common ones; choose another",
    "trivial": "this password is a repeated or running pattern; choose another",
}


def check_password(password: str, field: str = "password") -> None:
    """Refuse a password that is short, common or trivial (422 with the reason code on `field`)."""
    reason = passwords.refusal(password)
    if reason is not None:
        raise DomainError.field(field, reason, _PASSWORD_MESSAGES[reason])


def _check_region(session: Session, actor: Actor, region_code: str) -> None:
    # Regions outside the admin's own look exactly like unknown ones.
    if session.get(Region, region_code) is None or (
        actor.kind == "staff" and not within(actor.region_code, region_code)
    ):
        raise DomainError.field("region_code", "unknown_region")


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
    """Create an account scoped to an existing region (inside the creator's, for a staff creator)."""
    check_password(password)
    _check_region(ctx.session, actor, region_code)
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


def get_staff_user(ctx: Ctx, *, actor: Actor, user_id: uuid.UUID) -> StaffUser:
    """An account in the actor's region; any other looks missing."""
    user = ctx.session.scalar(
        select(StaffUser).where(StaffUser.id == user_id, in_scope(StaffUser.region_code, actor.region_code))
    )
    if user is None:
        raise NotFound("staff member not found", {"user_id": ["not_found"]})
    return user


def list_staff(ctx: Ctx, *, actor: Actor, page: PageRequest | None = None) -> tuple[list[StaffUser], int]:
    """Accounts in the actor's region, by username, a page (or all of them) and the total."""
    query = select(StaffUser).where(in_scope(StaffUser.region_code, actor.region_code))
    return fetch_page(ctx.session, query, order_by=(StaffUser.username, StaffUser.id), page=page or PageRequest())


def update_staff_user(ctx: Ctx, *, actor: Actor, user: StaffUser, changes: Mapping[str, Any], reason: str) -> list[str]:
    """Change role, region, display name or whether the account is active; disabling revokes its tokens.

    Admins may not disable or demote themselves: an office must not lose its
    last admin by accident.
    """
    if user.id == uuid.UUID(actor.id) and (
        changes.get("is_active") is False or changes.get("role", user.role) != user.role
    ):
        raise Forbidden("you may not disable or demote your own account", {"_": ["own_account"]})
    if "region_code" in changes:
        _check_region(ctx.session, actor, changes["region_code"])
    changed = [name for name, value in changes.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, changes[name])
    if "is_active" in changed and not user.is_active:
        revoke_all_tokens(user)
    if changed:
        record(
            ctx.session,
            actor=actor,
            action="staff.updated",
            object_type="staff_user",
            object_id=user.id,
            region_code=user.region_code,
            reason=reason,
            details={name: getattr(getattr(user, name), "value", getattr(user, name)) for name in changed},
        )
    return changed


def reset_password(ctx: Ctx, *, actor: Actor, user: StaffUser, password: str, reason: str) -> None:
    """Set a new password for someone (forgotten, or a leak); every token they hold dies."""
    check_password(password)
    user.password_hash = hash_password(password)
    revoke_all_tokens(user)
    record(
        ctx.session,
        actor=actor,
        action="staff.password_reset",
        object_type="staff_user",
        object_id=user.id,
        region_code=user.region_code,
        reason=reason,
    )


def change_own_password(ctx: Ctx, *, actor: Actor, current: str, new: str) -> StaffUser:
    """Change your own password after proving the current one; your other tokens die."""
    user = ctx.session.get(StaffUser, uuid.UUID(actor.id))
    if not password_matches(user.password_hash, current):
        raise DomainError.field("current_password", "wrong_password", "the current password is not right")
    check_password(new, "new_password")
    user.password_hash = hash_password(new)
    revoke_all_tokens(user)
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
