"""Every string the console shows has a translation in both catalogs, and the compiled catalogs match them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "server" / "web"
LOCALES = ("zh_Hans_CN", "en")


def _extracted() -> set[str]:
    with open(WEB / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(locale: str):
    with open(WEB / "translations" / locale / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_has_a_translation(locale: str) -> None:
    catalog = _catalog(locale)
    missing = sorted(m for m in _extracted() if not (catalog.get(m) and catalog.get(m).string))
    assert not missing, f"{locale}: no translation for {missing}"


@pytest.mark.parametrize("locale", LOCALES)
def test_no_translation_is_fuzzy_or_stale(locale: str) -> None:
    catalog = _catalog(locale)
    extracted = _extracted()
    assert not [m.id for m in catalog if m.id and m.fuzzy]
    assert not sorted(m.id for m in catalog if m.id and m.id not in extracted), "remove translations nobody uses"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_committed_mo_is_the_po_compiled(locale: str) -> None:
    # The .mo files are committed so the app needs no build step; this keeps them from drifting from the .po.
    catalog = _catalog(locale)
    with open(WEB / "translations" / locale / "LC_MESSAGES" / "messages.mo", "rb") as fh:
        committed = read_mo(fh)
    assert {m.id: m.string for m in committed if m.id} == {m.id: m.string for m in catalog if m.id}
    fresh = io.BytesIO()
    write_mo(fresh, catalog)
    assert fresh.getvalue()


def test_every_reason_a_check_in_can_get_has_words() -> None:
    # A supervisor reads the reason in the queue and on the check-in: a bare code such as
    # "light_unmeasurable" tells them nothing about what to look at.
    from server.services.verification import OWN_REASONS
    from server.web.words import WORDS
    from worker.face.liveness import REASONS, REVIEW_REASONS

    codes = {*REASONS, *REVIEW_REASONS, *OWN_REASONS}
    assert codes - WORDS["checkin_reason"].keys() == set()


@pytest.mark.parametrize(
    ("group", "enum_name"),
    [
        ("case_kind", "CaseKind"),
        ("case_state", "CaseState"),
        ("checkin_state", "CheckinState"),
        ("checkin_mode", "CheckinMode"),
        ("decision", "DecisionKind"),
        ("decision_status", "DecisionStatus"),
        ("visit_flag", "VisitFlagCode"),
        ("visit_outcome", "VisitOutcome"),
        ("notice_reason", "NoticeReason"),
        ("role", "StaffRole"),
        ("program", "Program"),
    ],
)
def test_every_value_a_list_shows_has_words(group: str, enum_name: str) -> None:
    # The console's filters, tallies and the overview list a group's values from its words: a value
    # without words is shown as a bare code, and left out of every count and filter.
    import server.models
    from server.web.words import WORDS

    values = {member.value for member in getattr(server.models, enum_name)}
    assert values - WORDS[group].keys() == set()
