"""Codes the services speak (enum values, reason codes) in words for people, in the reader's language."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

WORDS: dict[str, dict[str, object]] = {
    "case_kind": {
        "missed_checkin": _l("Missed check-in"),
        "failed_checkins": _l("Repeated failed check-ins"),
        "duplicate_face": _l("Possible duplicate face"),
        "location_anomaly": _l("Visit location anomaly"),
        "visit_finding": _l("Home visit finding"),
        "death_record": _l("Death record match"),
        "consent_withdrawn": _l("Consent to face checks withdrawn"),
        "duplicate_registration": _l("ID number registered in two townships"),
    },
    "case_state": {
        "open": _l("Open"),
        "suspended": _l("Suspended"),
        "extended": _l("Extended"),
        "exempted": _l("Exempted"),
        "dismissed": _l("Dismissed"),
        "reinstated": _l("Reinstated"),
        "terminated": _l("Terminated"),
        "restored": _l("Restored after appeal"),
        "transferred": _l("Transferred: the person moved"),
        "refused": _l("Registration refused"),
    },
    "decision": {
        "suspend": _l("Propose suspension"),
        "terminate": _l("Propose termination"),
        "extend": _l("Extend the deadline"),
        "exempt": _l("Grant an exemption"),
        "order_visit": _l("Order a home visit"),
        "dismiss": _l("Dismiss"),
        "restore": _l("Propose restoring the assistance"),
        "transfer": _l("Propose a transfer (the same person moved)"),
        "refuse": _l("Propose refusing the registration"),
    },
    "decision_status": {
        "applied": _l("Applied"),
        "pending": _l("Awaiting approval"),
        "approved": _l("Approved"),
        "rejected": _l("Rejected"),
    },
    "checkin_state": {
        "received": _l("Received"),
        "processing": _l("Processing"),
        "verified": _l("Verified"),
        "rejected": _l("Rejected"),
        "review": _l("In review"),
    },
    "checkin_mode": {
        "self": _l("By the person"),
        "assisted_relative": _l("Helped by a relative"),
        "assisted_staff": _l("Assisted by staff"),
    },
    "checkin_reason": {
        "too_dark": _l("Too dark to see the face"),
        "face_not_found": _l("No face found"),
        "multiple_faces": _l("More than one face"),
        "action_not_seen": _l("A prompted action was not seen"),
        "actions_out_of_order": _l("Actions in the wrong order"),
        "no_3d_motion": _l("No 3-D movement (possibly a photo)"),
        "identity_changed": _l("A different person appeared during the check-in"),
        "not_enrolled": _l("No enrolled face to compare with"),
        "face_uncertain": _l("Face match uncertain"),
        "face_mismatch": _l("Face does not match the enrolled photos"),
        "too_many_attempts": _l("Processing failed too often"),
        "replayed_frames": _l("Frames re-sent from an earlier check-in"),
    },
    "action": {
        "blink": _l("Blink"),
        "turn_left": _l("Turn left"),
        "turn_right": _l("Turn right"),
        "open_mouth": _l("Open the mouth"),
        "nod": _l("Nod"),
    },
    "actor_kind": {
        "staff": _l("Staff"),
        "device": _l("The person's phone"),
        "system": _l("The system"),
    },
    "audit_action": {
        "beneficiary.created": _l("Record created"),
        "beneficiary.updated": _l("Record changed"),
        "beneficiary.viewed": _l("Record viewed"),
        "beneficiary.reinstated": _l("Reinstated"),
        "beneficiary.terminated": _l("Terminated"),
        "beneficiary.moved_in": _l("Moved in: this record replaces the one in the old township"),
        "beneficiary.moved_away": _l("Moved away: replaced by a record in another township"),
        "beneficiary.registration_refused": _l("Registration refused by the county"),
        "biometric.viewed": _l("Photo viewed"),
        "case.opened": _l("Case opened"),
        "case.assigned": _l("Case assigned"),
        "case.closed": _l("Case closed"),
        "case.decided": _l("Decision taken"),
        "case.decision_proposed": _l("Decision proposed"),
        "case.decision_approved": _l("Proposal approved"),
        "case.decision_rejected": _l("Proposal rejected"),
        "notice.created": _l("Notice created"),
        "suspension.started": _l("Suspension started"),
        "suspension.appealed": _l("Appeal recorded"),
        "suspension.upheld": _l("Suspension upheld"),
        "exemption.granted": _l("Exemption granted"),
        "consent.biometric_withdrawn": _l("Consent to face checks withdrawn"),
        "personal_data.listed": _l("The person viewed their data"),
        "retention.purged": _l("Expired biometric data deleted"),
        "staff.login": _l("Signed in"),
        "staff.created": _l("Account created"),
        "staff.password_changed": _l("Password changed"),
        "payment_run.built": _l("Payment run built"),
        "payment_run.exported": _l("Payment run downloaded"),
        "report.coverage_exported": _l("Coverage downloaded"),
        "visit.viewed": _l("Visits viewed"),
        "visit.recorded": _l("Visit recorded"),
        "checkin.verified": _l("Check-in verified"),
        "checkin.rejected": _l("Check-in rejected"),
        "checkin.review": _l("Check-in sent to review"),
        "checkin.review_verified": _l("Check-in verified by a reviewer"),
        "checkin.review_rejected": _l("Check-in rejected by a reviewer"),
        "cycle.created": _l("Cycle created"),
        "cycle.swept": _l("Cycle swept"),
        "staff.updated": _l("Account changed"),
        "staff.password_reset": _l("Password reset by an administrator"),
        "staff.login_failed": _l("Failed sign-in"),
        "device.code_issued": _l("Phone activation code issued"),
        "staff_notification.seen": _l("Alert marked as seen"),
        "device.activated": _l("Phone activated"),
        "device.revoked": _l("Phone revoked"),
        "job.created": _l("Import started"),
        "job.done": _l("Import finished"),
        "job.failed": _l("Import failed"),
    },
    "status": {
        "active": _l("Active"),
        "suspended": _l("Suspended"),
        "terminated": _l("Terminated"),
    },
    "program": {
        "urban_minimum_allowance": _l("Urban minimum allowance"),
        "rural_minimum_allowance": _l("Rural minimum allowance"),
        "destitute_dispersed": _l("Destitute support (at home)"),
        "destitute_concentrated": _l("Destitute support (institution)"),
        "orphan": _l("Orphan support"),
        "temporary_assistance": _l("Temporary assistance"),
    },
    "enrolment": {
        "not_enrolled": _l("Not enrolled"),
        "processing": _l("Enrolment in progress"),
        "enrolled": _l("Enrolled"),
        "failed": _l("Enrolment failed"),
    },
    "alert_kind": {
        "device_added": _l("A further phone was issued for the person"),
    },
    "photo_change_kind": {
        "add": _l("Add photos"),
        "replace": _l("Replace all photos"),
        "retire": _l("Retire a photo"),
    },
    "exemption_kind": {
        "institution_care": _l("Institution care"),
        "hospitalisation": _l("Hospitalisation"),
        "work_absence": _l("Away for work"),
    },
    "visit_outcome": {
        "confirmed_present": _l("Confirmed present"),
        "absent": _l("Absent"),
        "moved_away": _l("Moved away"),
        "deceased": _l("Deceased"),
        "refused": _l("Refused"),
    },
    "visit_flag": {
        "far_from_home": _l("Far from home"),
        "poor_accuracy": _l("Poor GPS accuracy"),
        "mock_location": _l("Mock location"),
        "impossible_travel": _l("Impossible travel"),
        "desk_cluster": _l("Desk cluster"),
        "clock_skew": _l("Device clock wrong"),
        "outside_region": _l("Outside the worker's region"),
    },
    "satisfied_by": {
        "checkin": _l("Verified check-in"),
        "visit": _l("Home visit with check-in"),
        "exemption": _l("Exemption"),
        "evidence": _l("Evidence from another source"),
        None: _l("Not yet"),
    },
    # Reasons the system writes itself, instead of a person's words.
    "system_reason": {
        "closed_by_verified_checkin": _l("Closed by a verified check-in"),
        "closed_by_termination": _l("Closed: the person's assistance was terminated through another case"),
        "closed_by_restoration": _l("Closed: the person's assistance was restored through another case"),
        "closed_by_transfer": _l("Closed: the person moved to another township"),
        # What a photo change proposed without a reason of its own says (services/photo_changes.py).
        "add enrolment photos": _l("Add enrolment photos"),
        "replace enrolment photos": _l("Replace the enrolment photos"),
        "retire an enrolment photo": _l("Retire an enrolment photo"),
    },
    # The notice's grounds as staff choose them; the notice itself prints the standard wording.
    "notice_reason": {
        "missed_checkin": _l("Missed the cycle's check-in"),
        "failed_checkins": _l("Check-ins failed repeatedly"),
        "duplicate_face": _l("The face matches another person's record"),
        "location_anomaly": _l("The check-in location was unusual"),
        "identity_unconfirmed": _l("Identity could not be confirmed"),
        "found_absent_twice": _l("Found absent on two home visits"),
        "moved_away": _l("Moved away"),
        "visit_finding": _l("A home visit found a problem"),
        "died_per_visit": _l("A home visit found the person had died"),
        "death_recorded": _l("Death recorded by the record's source"),
        "no_longer_eligible": _l("No longer eligible"),
    },
    "death_source": {
        None: _l("Unnamed source"),
        "civil_registry": _l("Civil registry"),
        "funeral_home": _l("Funeral service"),
        "hospital": _l("Hospital"),
    },
    "payment_category": {
        "pay": _l("Pay"),
        "suspended": _l("Withheld (suspended)"),
        "reinstated_arrears": _l("Reinstated with arrears"),
        "terminated": _l("Terminated"),
    },
    "payment_flag": {
        "paid_after_death": _l("Paid after death: to recover"),
        "paid_after_termination": _l("Paid after the assistance ended: to recover"),
    },
    "role": {
        "admin": _l("Administrator"),
        "supervisor": _l("Supervisor"),
        "field_worker": _l("Field worker"),
    },
    "notice_kind": {
        "suspension": _l("Notice of suspension"),
        "termination": _l("Notice of termination"),
        "suspension_upheld": _l("Answer to the appeal: the suspension stands"),
        "termination_upheld": _l("Answer to the appeal: the termination stands"),
    },
    "channel": {
        "letter": _l("Letter"),
        "sms": _l("SMS"),
        "in_person": _l("In person"),
        "phone": _l("Phone call"),
    },
    "frequency": {
        "monthly": _l("Monthly"),
        "quarterly": _l("Quarterly"),
        "yearly": _l("Yearly"),
    },
    "import_status": {
        "created": _l("Created"),
        "updated": _l("Updated"),
        "unchanged": _l("Unchanged"),
        "error": _l("Error"),
        "recorded": _l("Recorded"),
        "case_opened": _l("Case opened"),
        "already_recorded": _l("Already recorded"),
        "already_terminated": _l("Already terminated"),
        "no_match": _l("No match in your region"),
        "flagged_payments": _l("Payments flagged as paid after death"),
    },
    "device_state": {
        "active": _l("In use"),
        "pending": _l("Code not yet used"),
        "revoked": _l("Revoked"),
    },
    "reminder_state": {
        "pending": _l("Waiting to be sent"),
        "sent": _l("Sent out"),
        "failed": _l("Could not be sent"),
    },
    "import_kind": {
        "roster": _l("Roster"),
        "deaths": _l("Death records"),
        "evidence": _l("Cycle evidence"),
    },
    "job_state": {
        "queued": _l("Waiting for the worker"),
        "running": _l("Importing"),
        "done": _l("Done"),
        "failed": _l("Failed"),
    },
}

# Reason codes from DomainError.errors, as a person would say them.
REASONS: dict[str, object] = {
    "required": _l("this is required"),
    "invalid_credentials": _l("wrong username or password"),
    "wrong_password": _l("the current password is not right"),
    "too_short": _l("too short (at least 10 characters)"),
    "four_eyes_required": _l("you proposed this yourself: another supervisor must approve it"),
    "invalid_transition": _l("the case's state does not allow this decision"),
    "proposal_pending": _l("a proposal awaits approval: approve or reject it first"),
    "not_pending": _l("this proposal was already decided"),
    "stale_version": _l("someone changed this meanwhile: the page shows the current version, check and send again"),
    "no_proof_of_life": _l("no verified check-in since payment stopped: the person must prove to be alive first"),
    "not_under_appeal": _l("only a termination under appeal can be undone: record the appeal first"),
    "termination_restored": _l("this termination was already undone"),
    "before_termination": _l("the date is before the termination"),
    "needs_death_record": _l("only a death record case can give this reason"),
    "needs_missed_checkin": _l("only a missed check-in case can give this reason"),
    "no_notice": _l("this decision sends no notice"),
    "terminated": _l("the person's assistance has ended: record an appeal first if the person says it is wrong"),
    "not_suspended": _l("the person is not suspended"),
    "in_future": _l("the date cannot be in the future"),
    "in_past": _l("the date cannot be in the past"),
    "not_in_future": _l("the date must be in the future"),
    "before_suspension": _l("the date is before the suspension"),
    "invalid_date": _l("not a valid date"),
    "invalid_number": _l("not a valid number"),
    "not_a_reviewer_in_scope": _l("choose a supervisor whose region holds the case"),
    "unknown_village": _l("no such village in your region"),
    "unknown_region": _l("no such region in your region"),
    "already_registered": _l("this ID number is already registered"),
    "already_exists": _l("already exists"),
    "appeal_too_late": _l("the appeal period has ended"),
    "already_appealed": _l("an appeal was already recorded"),
    "overlapping_cycle": _l("another cycle already covers these people at that time"),
    "overlapping_run": _l("a run for an overlapping region exists in this period"),
    "role_not_allowed": _l("your role may not do this"),
    "not_found": _l("not found"),
    "missing_file": _l("choose a file to upload"),
    "bad_header": _l("the file's columns are not the expected ones"),
    "not_decodable": _l("the file is not UTF-8 or GB18030 text"),
    "checksum": _l("the ID number's check digit is wrong"),
    "malformed": _l("malformed"),
    "invalid": _l("not valid"),
    "own_account": _l("you may not disable or demote your own account"),
    "common": _l("this password is among the most common ones; choose another"),
    "trivial": _l("this password is a repeated or running pattern; choose another"),
}


def reminder_step(step: str) -> str:
    """A reminder step (`due_14`, `overdue`) in words."""
    days = step.removeprefix("due_")
    if step == "overdue":
        return gettext("After the deadline (overdue)")
    if days.isdigit():
        return gettext("%(days)s days before the deadline", days=days)
    return step


def reason_text(field: str, code: str) -> str:
    """One reason in words; an unknown code is shown as the code, which a developer can look up."""
    text = REASONS.get(code)
    return str(text) if text is not None else gettext("refused (%(code)s)", code=f"{field}: {code}")


def reasons_of(exc) -> str:
    """A refused request's reasons in words, `allowed` (the list of what would be allowed) left out."""
    texts = [reason_text(field, code) for field, codes in exc.errors.items() if field != "allowed" for code in codes]
    return "; ".join(texts) or gettext("The request was refused.")
