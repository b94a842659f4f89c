"""The visit checklist by version, and the checks a visit record must pass."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.models import VisitOutcome
from server.services.errors import DomainError

# The checklist a device fills in, by version: devices keep working on the version they were built for.
CHECKLIST_VERSIONS: dict[int, dict[str, dict[str, Any]]] = {
    1: {
        "present": {
            "type": "choices",
            "options": ["beneficiary", "spouse", "child", "parent", "other_relative", "carer", "nobody"],
            "label_zh": "在场人员",
            "label_en": "Who was present",
        },
        "living_conditions": {
            "type": "choice",
            "options": ["adequate", "basic", "poor"],
            "label_zh": "居住条件",
            "label_en": "Living conditions",
        },
        "household_members_changed": {
            "type": "bool",
            "label_zh": "家庭成员变化",
            "label_en": "Household members changed",
        },
        "income_changed": {"type": "bool", "label_zh": "收入变化", "label_en": "Income changed"},
        "employment_changed": {"type": "bool", "label_zh": "就业变化", "label_en": "Employment changed"},
        "vehicle_changed": {"type": "bool", "label_zh": "车辆变化", "label_en": "Vehicles acquired or sold"},
        "housing_changed": {"type": "bool", "label_zh": "住房变化", "label_en": "Housing changed"},
        "health": {
            "type": "choice",
            "options": ["good", "chronic_illness", "disabled", "bedridden", "hospitalised"],
            "label_zh": "健康状况",
            "label_en": "Health",
        },
        "changes_note": {
            "type": "text",
            "optional": True,
            "max_length": 500,
            "label_zh": "变化说明",
            "label_en": "About the changes",
        },
    }
}
# A household visit cannot report a death: that concerns one named person.
HOUSEHOLD_OUTCOMES = {
    VisitOutcome.CONFIRMED_PRESENT,
    VisitOutcome.ABSENT,
    VisitOutcome.MOVED_AWAY,
    VisitOutcome.REFUSED,
}
EDITABLE_FIELDS = ("outcome", "checklist_version", "checklist", "notes", "ended_at")


def _checklist_errors(version: Any, answers: Mapping[str, Any]) -> dict[str, list[str]]:
    definition = CHECKLIST_VERSIONS.get(version)
    if definition is None:
        return {"checklist_version": ["unknown_checklist_version"]}
    errors: dict[str, list[str]] = {}
    for name in answers.keys() - definition.keys():
        errors[f"checklist.{name}"] = ["unknown_question"]
    for name, question in definition.items():
        if name not in answers:
            if not question.get("optional"):
                errors[f"checklist.{name}"] = ["required"]
            continue
        if not _answer_ok(question, answers[name]):
            errors[f"checklist.{name}"] = ["invalid_answer"]
    return errors


def _answer_ok(question: Mapping[str, Any], answer: Any) -> bool:
    kind = question["type"]
    if kind == "bool":
        return isinstance(answer, bool)
    if kind == "choice":
        return answer in question["options"]
    if kind == "choices":
        return isinstance(answer, list) and bool(answer) and all(a in question["options"] for a in answer)
    return isinstance(answer, str) and len(answer) <= question["max_length"]


def validate_visit(data: Mapping[str, Any]) -> None:
    errors = _checklist_errors(data["checklist_version"], data["checklist"])
    if data["ended_at"] < data["started_at"]:
        errors["ended_at"] = ["ends_before_start"]
    if data.get("household_code") and data["outcome"] not in HOUSEHOLD_OUTCOMES:
        errors["outcome"] = ["needs_beneficiary_id"]
    if errors:
        raise DomainError("the visit record is not valid", errors)
