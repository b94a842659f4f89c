"""Every table, imported in one place so metadata and migrations see them all."""

from server.models.audit import AuditChainHead, AuditEntry
from server.models.base import Base, utcnow
from server.models.beneficiary import Beneficiary, BeneficiaryStatus, Device, Program
from server.models.checkin import Checkin, CheckinChallenge, CheckinFrame, CheckinMode, CheckinState
from server.models.cycle import (
    Cycle,
    CycleEvidence,
    CycleFrequency,
    Exemption,
    ExemptionKind,
    Notification,
    NotificationState,
)
from server.models.enrolment import EnrolmentPhoto, FaceTemplate, PhotoState
from server.models.region import Region, RegionLevel
from server.models.review_case import CaseKind, CaseState, ReviewCase
from server.models.staff import StaffRole, StaffUser

__all__ = [
    "AuditChainHead",
    "AuditEntry",
    "Base",
    "Beneficiary",
    "BeneficiaryStatus",
    "CaseKind",
    "CaseState",
    "Checkin",
    "CheckinChallenge",
    "CheckinFrame",
    "CheckinMode",
    "CheckinState",
    "Cycle",
    "CycleEvidence",
    "CycleFrequency",
    "Device",
    "EnrolmentPhoto",
    "Exemption",
    "ExemptionKind",
    "FaceTemplate",
    "Notification",
    "NotificationState",
    "PhotoState",
    "Program",
    "Region",
    "RegionLevel",
    "ReviewCase",
    "StaffRole",
    "StaffUser",
    "utcnow",
]
