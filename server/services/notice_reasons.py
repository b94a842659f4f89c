"""The grounds a notice gives the person: a fixed list with standard Chinese and English wording.

A decision's `reason` is the staff's internal note and never reaches a notice; the notice says the
standard wording of the reason chosen, plus free text only when a staff member wrote it for the person.
"""

from __future__ import annotations

import uuid
from datetime import date

from server.context import Ctx
from server.models import CaseKind, Cycle, CycleFrequency, NoticeReason, ReviewCase
from server.services.errors import DomainError

# Chinese first: the people notices go to read Chinese.
WORDING = {
    NoticeReason.FAILED_CHECKINS: ("多次认证未通过", "Check-ins failed repeatedly"),
    NoticeReason.DUPLICATE_FACE: ("人脸与他人档案重复", "The face matches another person's record"),
    NoticeReason.LOCATION_ANOMALY: ("认证地点异常", "The check-in location was unusual"),
    NoticeReason.IDENTITY_UNCONFIRMED: ("无法确认是否为本人", "It could not be confirmed that you are the person"),
    NoticeReason.FOUND_ABSENT_TWICE: ("两次入户调查均未见到本人", "Two home visits did not find you at home"),
    NoticeReason.MOVED_AWAY: ("已迁离本地", "You have moved away"),
    NoticeReason.VISIT_FINDING: ("入户调查发现问题", "A home visit found a problem"),
    NoticeReason.DIED_PER_VISIT: ("入户调查确认本人已去世", "A home visit found that the person has died"),
    NoticeReason.NO_LONGER_ELIGIBLE: ("已不符合救助条件", "You no longer meet the conditions for assistance"),
}
# A missed check-in is named after its cycle's frequency: a monthly cycle's notice must not say "quarterly".
MISSED_CHECKIN = {
    CycleFrequency.MONTHLY: ("未按时完成月度认证", "The monthly check-in was not done"),
    CycleFrequency.QUARTERLY: ("未按时完成季度认证", "The quarterly check-in was not done"),
    CycleFrequency.YEARLY: ("未按时完成年度认证", "The yearly check-in was not done"),
}
# Death records name their source as the file gave it; the usual ones have a name.
SOURCES = {
    "civil_registry": ("户籍登记机关", "the civil registry"),
    "funeral_home": ("殡葬服务机构", "a funeral service"),
    "hospital": ("医疗机构", "a hospital"),
}
DEFAULT_FOR_KIND = {
    CaseKind.MISSED_CHECKIN: NoticeReason.MISSED_CHECKIN,
    CaseKind.FAILED_CHECKINS: NoticeReason.FAILED_CHECKINS,
    CaseKind.DUPLICATE_FACE: NoticeReason.DUPLICATE_FACE,
    CaseKind.LOCATION_ANOMALY: NoticeReason.LOCATION_ANOMALY,
    CaseKind.VISIT_FINDING: NoticeReason.VISIT_FINDING,
    CaseKind.DEATH_RECORD: NoticeReason.DEATH_RECORDED,
    CaseKind.TEMPLATE_CHANGE: NoticeReason.IDENTITY_UNCONFIRMED,
    # Suspended only when no other proof (a visit, an in-person check-in) came: it is not known to be them.
    CaseKind.CONSENT_WITHDRAWN: NoticeReason.IDENTITY_UNCONFIRMED,
    CaseKind.DUPLICATE_REGISTRATION: NoticeReason.MOVED_AWAY,
}
# A visit finding's own reason, by what the field worker found.
FOR_FINDING = {
    "deceased": NoticeReason.DIED_PER_VISIT,
    "moved_away": NoticeReason.MOVED_AWAY,
    "absent": NoticeReason.FOUND_ABSENT_TWICE,
}
FINDING_WORDS = {
    "deceased": ("发现本人已去世", "found that the person had died"),
    "moved_away": ("发现本人已迁离", "found that you had moved away"),
    "absent": ("多次未见到本人", "did not find you at home, more than once"),
}
NOTE_MAX = 500


def default_reason(case: ReviewCase) -> NoticeReason:
    if case.kind == CaseKind.VISIT_FINDING:
        return FOR_FINDING.get(case.details.get("finding"), NoticeReason.VISIT_FINDING)
    return DEFAULT_FOR_KIND[case.kind]


def source_name(source: str | None) -> tuple[str, str]:
    if not source:
        return "死亡登记部门", "a death registry"
    return SOURCES.get(source, (source, source))


def check(case: ReviewCase, reason: NoticeReason | None, text: str | None) -> tuple[NoticeReason, str | None]:
    """The notice's reason (the case kind's own when none is chosen) and the text for the person, checked."""
    reason = reason or default_reason(case)
    if reason == NoticeReason.DEATH_RECORDED and case.kind != CaseKind.DEATH_RECORD:
        raise DomainError.field("notice_reason", "needs_death_record", "only a death record case can give this reason")
    if reason == NoticeReason.MISSED_CHECKIN and case.kind != CaseKind.MISSED_CHECKIN:
        raise DomainError.field("notice_reason", "needs_missed_checkin", "only a missed check-in can give this reason")
    text = (text or "").strip() or None
    if text is not None and len(text) > NOTE_MAX:
        raise DomainError.field("notice_text", "too_long")
    return reason, text


def wording(ctx: Ctx, *, case: ReviewCase, reason: NoticeReason) -> str:
    """The standard wording, "中文 / English"."""
    if reason == NoticeReason.MISSED_CHECKIN:
        cycle_id = case.details.get("cycle_id")
        cycle = ctx.session.get(Cycle, uuid.UUID(cycle_id)) if cycle_id else None
        # A case opened before cycles were configured counts the calendar quarter.
        zh, en = MISSED_CHECKIN[cycle.frequency if cycle else CycleFrequency.QUARTERLY]
    elif reason == NoticeReason.DEATH_RECORDED:
        zh_source, en_source = source_name(case.details.get("source"))
        zh, en = f"收到{zh_source}的死亡登记信息", f"A death was recorded by {en_source}"
    else:
        zh, en = WORDING[reason]
    return f"{zh} / {en}"


def zh_day(value: date) -> str:
    """A date as Chinese documents write it (2026年12月1日): the people notices go to read no ISO dates."""
    return f"{value.year}年{value.month}月{value.day}日"


def _zh_day_of(iso: str | None) -> str:
    return zh_day(date.fromisoformat(iso)) if iso else "—"


def evidence(case: ReviewCase) -> str | None:
    """What the case rests on, for the notice: a death record with its source and reference, a visit."""
    details = case.details
    if case.kind == CaseKind.DEATH_RECORD:
        zh_source, en_source = source_name(details.get("source"))
        reference = details.get("reference") or "—"
        died = details.get("date_of_death") or "—"
        return (
            f"死亡登记：{zh_source}，编号 {reference}，登记死亡日期 {_zh_day_of(details.get('date_of_death'))} / "
            f"Death record: {en_source}, reference {reference}, date of death {died}"
        )
    if case.kind == CaseKind.VISIT_FINDING:
        zh, en = FINDING_WORDS.get(details.get("finding"), ("发现问题", "found a problem"))
        visited = details.get("visited_on") or "—"
        return f"入户调查（{_zh_day_of(details.get('visited_on'))}）{zh} / A home visit on {visited} {en}"
    return None
