"""Every table, imported in one place so metadata and migrations see them all."""

from server.models.audit import AuditChainHead, AuditEntry
from server.models.base import Base, utcnow
from server.models.beneficiary import Beneficiary, BeneficiaryStatus, Device, Program
from server.models.checkin import Checkin, CheckinChallenge, CheckinFrame, CheckinMode, CheckinState
from server.models.consent import BiometricConsent
from server.models.cycle import (
    Cycle,
    CycleEvidence,
    CycleFrequency,
    Exemption,
    ExemptionKind,
    Notification,
    NotificationState,
)
from server.models.decision import CaseDecision, DecisionKind, DecisionStatus, VisitTask, VisitTaskState
from server.models.enrolment import (
    EnrolmentPhoto,
    FaceGalleryChange,
    FaceGalleryVersion,
    FaceTemplate,
    PhotoChange,
    PhotoChangeKind,
    PhotoChangeStatus,
    PhotoState,
)
from server.models.job import Job, JobState
from server.models.payment import PaymentCategory, PaymentLine, PaymentRun
from server.models.region import Region, RegionLevel
from server.models.review_case import CaseKind, CaseState, ReviewCase
from server.models.staff import RevokedToken, StaffRole, StaffUser
from server.models.staff_notification import StaffNotification
from server.models.suspension import Notice, NoticeChannel, NoticeKind, Suspension, SuspensionEnd
from server.models.tally import Tally
from server.models.termination import DisputedDeathRecord, NoticeReason, Termination
from server.models.visit import Visit, VisitFlag, VisitFlagCode, VisitOutcome, VisitPhoto

__all__ = [
    "AuditChainHead",
    "AuditEntry",
    "Base",
    "Beneficiary",
    "BeneficiaryStatus",
    "BiometricConsent",
    "CaseDecision",
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
    "DecisionKind",
    "DecisionStatus",
    "Device",
    "DisputedDeathRecord",
    "EnrolmentPhoto",
    "Exemption",
    "ExemptionKind",
    "FaceGalleryChange",
    "FaceGalleryVersion",
    "FaceTemplate",
    "Job",
    "JobState",
    "Notice",
    "NoticeChannel",
    "NoticeKind",
    "NoticeReason",
    "Notification",
    "NotificationState",
    "PaymentCategory",
    "PaymentLine",
    "PaymentRun",
    "PhotoChange",
    "PhotoChangeKind",
    "PhotoChangeStatus",
    "PhotoState",
    "Program",
    "Region",
    "RegionLevel",
    "ReviewCase",
    "RevokedToken",
    "StaffNotification",
    "StaffRole",
    "StaffUser",
    "Suspension",
    "SuspensionEnd",
    "Tally",
    "Termination",
    "Visit",
    "VisitFlag",
    "VisitFlagCode",
    "VisitOutcome",
    "VisitPhoto",
    "VisitTask",
    "VisitTaskState",
    "utcnow",
]
