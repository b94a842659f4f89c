"""Separate, informed consent to face processing (PIPL arts. 28–29): the text a phone shows, and the record."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import BiometricConsent, Device
from server.services.audit import Actor, record
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


def require_consent(session: Session, *, device_id: uuid.UUID) -> None:
    """A device checks in only after its person agreed to biometric processing on it."""
    given = session.scalar(select(BiometricConsent.id).where(BiometricConsent.device_id == device_id))
    if given is None:
        raise Forbidden("biometric consent has not been given on this phone", {"consent": ["consent_required"]})
