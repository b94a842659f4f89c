"""Separate, informed consent to face processing (PIPL arts. 28–29): the text a phone shows, and the record."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.context import Ctx
from server.models import Beneficiary, BiometricConsent, CaseKind, Device, utcnow
from server.services.audit import Actor, record
from server.services.cases import open_case
from server.services.errors import DomainError, Forbidden

# A new wording gets a new version; a consent records the version the person actually read.
VERSION = "biometric-2026-12"
PURPOSE = ("确认您本人健在，以便继续发放救助金", "to confirm you are alive, so your assistance keeps being paid")
TEXT_ZH = [
    "为了确认您本人健在、继续发放救助金，民政部门需要用手机拍摄您的面部照片和动作，并与登记时的照片比对。",
    "人脸属于敏感个人信息。照片加密保存，只用于本项核验，核验后按规定期限删除，不会用于其他用途。",
    "核验时会记录手机位置（如您允许），用于确认是在本地完成。",
    "您可以不同意。不同意时，本手机不能自助认证，请联系村协理员上门或到乡镇办理，救助金不会因此被停发。",
]
TEXT_EN = [
    "To confirm that you are alive and keep paying your assistance, the civil-affairs office needs the phone "
    "to take pictures of your face and movements and compare them with the photos taken when you registered.",
    "Your face is sensitive personal information. The pictures are kept encrypted, used only for this check, "
    "and deleted after the period the rules set. They are not used for anything else.",
    "If you allow it, the phone's location is recorded with the check, to show it was done locally.",
    "You may say no. Then this phone cannot do the check itself: ask your village assistant to visit or go to "
    "the township office. Saying no does not stop your payments.",
]


def current_text() -> dict:
    """The consent a phone shows before it is activated."""
    return {
        "version": VERSION,
        "purpose_zh": PURPOSE[0],
        "purpose_en": PURPOSE[1],
        "text_zh": TEXT_ZH,
        "text_en": TEXT_EN,
    }


def check_version(version: str) -> None:
    """Refuse a consent to any wording but the current one (the person must have read what applies)."""
    if version != VERSION:
        raise DomainError.field("consent_version", "consent_outdated", "show the current consent text and ask again")


def record_consent(session: Session, *, actor: Actor, device: Device, version: str) -> BiometricConsent:
    """Record that the person using this device agreed to the given text now. Flushes."""
    consent = BiometricConsent(beneficiary_id=device.beneficiary_id, device_id=device.id, text_version=version)
    session.add(consent)
    session.flush()
    record(
        session,
        actor=actor,
        action="consent.biometric_given",
        object_type="device",
        object_id=device.id,
        details={"beneficiary_id": str(device.beneficiary_id), "text_version": version},
    )
    return consent


WITHDRAWN = (
    "您已撤回人脸信息处理同意，本手机不能再自助认证。请联系村协理员上门或到乡镇办理。",
    "You withdrew your consent to face processing: this phone can no longer check in. "
    "Ask your village assistant to visit, or go to the township office.",
)
# Notices and refusals the person reads are written "中文 / English".
WITHDRAWN_MESSAGE = " / ".join(WITHDRAWN)


def require_consent(session: Session, *, device_id: uuid.UUID) -> None:
    """A device checks in only after its person agreed to biometric processing on it, and while that stands."""
    given = session.scalar(select(BiometricConsent).where(BiometricConsent.device_id == device_id))
    if given is None:
        raise Forbidden("biometric consent has not been given on this phone", {"consent": ["consent_required"]})
    if given.withdrawn_at is not None:
        raise Forbidden(WITHDRAWN_MESSAGE, {"consent": ["consent_withdrawn"]})


def consents_of(session: Session, *, beneficiary_id: uuid.UUID) -> list[BiometricConsent]:
    """Every consent the person gave (one per activated phone), newest first."""
    query = select(BiometricConsent).where(BiometricConsent.beneficiary_id == beneficiary_id)
    return list(session.scalars(query.order_by(BiometricConsent.agreed_at.desc())))


def withdrawn_at(session: Session, *, beneficiary_id: uuid.UUID) -> datetime | None:
    """When the person withdrew their consent, if every consent they gave is withdrawn; else None."""
    consents = consents_of(session, beneficiary_id=beneficiary_id)
    if not consents or any(c.withdrawn_at is None for c in consents):
        return None
    return max(c.withdrawn_at for c in consents)


def withdraw(ctx: Ctx, *, actor: Actor, beneficiary: Beneficiary) -> datetime:
    """Withdraw the person's biometric consent on every phone (PIPL art. 15) and tell the supervisors.

    Their phones can no longer start a check-in; a `consent_withdrawn` case asks a supervisor to move
    the person to proof that needs no face processing on the phone: a home visit (decide
    `order_visit`) or a check-in in person at the township office. Withdrawing twice changes nothing."""
    standing = [c for c in consents_of(ctx.session, beneficiary_id=beneficiary.id) if c.withdrawn_at is None]
    if not standing:
        return withdrawn_at(ctx.session, beneficiary_id=beneficiary.id) or utcnow()
    now = utcnow()
    for given in standing:
        given.withdrawn_at = now
    ctx.session.flush()
    record(
        ctx.session,
        actor=actor,
        action="consent.biometric_withdrawn",
        object_type="beneficiary",
        object_id=beneficiary.id,
        region_code=beneficiary.village_code,
        details={
            "devices": [str(c.device_id) for c in standing],
            "text_versions": sorted({c.text_version for c in standing}),
        },
    )
    open_case(
        ctx,
        kind=CaseKind.CONSENT_WITHDRAWN,
        beneficiary=beneficiary,
        # One case per withdrawal: consent given again on a new phone and withdrawn again is a new one.
        dedupe_key=f"{CaseKind.CONSENT_WITHDRAWN.value}:{beneficiary.id}:{standing[0].id}",
        summary="Consent to face processing withdrawn: switch to a home visit or an in-person check-in",
        details={"withdrawn_at": now.isoformat(), "devices": [str(c.device_id) for c in standing]},
        actor=actor,
    )
    return now
