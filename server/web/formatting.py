"""Dates, amounts and rates as Chinese offices write them (2026年12月1日, ¥335.00), English when switched."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask, g
from flask_babel import format_currency, format_date, format_datetime, format_percent, get_locale
from flask_wtf.csrf import generate_csrf

from server.models import Region
from server.services import notice_reasons, regions
from server.web.access import ctx
from server.web.words import WORDS, reason_text, reasons_of, reminder_step


def day(value: date | str | None) -> str:
    """A date, or one kept as ISO text (a case's details), as the office writes it."""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return format_date(value, "long") if value else "—"


def months(periods: list[str] | None) -> str:
    """Payment months ("2026-10") as 2026年10月、2026年11月 (Oct 2026, Nov 2026 in English)."""
    if not periods:
        return "—"
    zh = get_locale().language == "zh"
    names = [format_date(date.fromisoformat(f"{period}-01"), "y年M月" if zh else "MMM y") for period in periods]
    return ("、" if zh else ", ").join(names)


def moment(value: datetime | None) -> str:
    return format_datetime(value, "medium") if value else "—"


def yuan(value: Decimal | str | None) -> str:
    """An amount; a string is an amount as kept in JSON (a decision's parameters)."""
    if value is None:
        return "—"
    return format_currency(Decimal(value), "CNY", format="¤#,##0.00", currency_digits=False)


def percent(value: Decimal | None) -> str:
    return format_percent(value / 100, "#,##0.0%") if value is not None else "—"


def zhday(value: date | None) -> str:
    """A date as Chinese documents write it, whatever the console's language: 2026年12月1日."""
    return notice_reasons.zh_day(value) if value else ""


def region_name(code: str | None) -> str:
    """A region's name (东门社区), looked up once per request for the reader's whole scope."""
    if not code:
        return ""
    if "region_names" not in g:
        scope = g.actor.region_code if g.get("actor") else code
        g.region_names = regions.names_in_scope(ctx(), region_code=scope)
    if code not in g.region_names:
        # A region containing the reader's (their county) is no secret: name it too.
        region = ctx().session.get(Region, code)
        g.region_names[code] = region.name if region else code
    return g.region_names[code]


def notice_zh(text: str) -> str:
    """The Chinese half of a bilingual notice text ("中文 / English"): the notice is printed in Chinese."""
    return text.split(" / ", 1)[0]


def word(value: object, group: str) -> str:
    """An enum value or reason code in words; unknown values show as they are (codes, not prose)."""
    if isinstance(value, list | tuple):
        return "、".join(word(item, group) for item in value) if value else word(None, group)
    raw = getattr(value, "value", value)
    text = WORDS.get(group, {}).get(raw)
    return str(text) if text is not None else str(raw)


def words(group: str) -> list[tuple[str, str]]:
    """Every value of a group with its words, for a select box or a table of counts."""
    return [(value, str(text)) for value, text in WORDS[group].items() if value is not None]


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        region=region_name,
        notice_zh=notice_zh,
        death_source=lambda source: word(source, "death_source"),
        reason_word=lambda code, field="": reason_text(field, code),
        zhday=zhday,
        reasons=reasons_of,
        day=day,
        months=months,
        moment=moment,
        yuan=yuan,
        percent=percent,
        word=word,
        reminder_step=reminder_step,
    )
    app.jinja_env.globals.update(
        csrf_token=generate_csrf, current_locale=lambda: "zh_CN" if get_locale().language == "zh" else "en", words=words
    )
