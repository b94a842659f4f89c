"""Demo data for the embedded default: one county, its townships and villages, staff and beneficiaries,
and a check-in cycle that has ended, so the queue has something in it.

The cycle is the last quarter whose grace period is over. The people were registered before it; two
checked in with the field worker's help and one with county staff (each check-in went to review and a
supervisor verified it: the demo has no camera, so it records the verdicts through that path), one lives
in an institution and is exempt, and one did nothing: the sweep opens a `missed_checkin` case for her.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.config import Settings
from server.context import Ctx
from server.models import (
    Beneficiary,
    Checkin,
    CheckinChallenge,
    CheckinMode,
    CheckinState,
    Cycle,
    CycleFrequency,
    ExemptionKind,
    Program,
    Region,
    StaffRole,
    StaffUser,
)
from server.services import auth, beneficiaries, checkins, cycles, exemptions, regions, staff, verification
from server.services.activation_links import activation_url
from server.services.audit import Actor
from server.services.auth import staff_actor
from server.services.resident_id import check_character

COUNTY = ("431099", "示范县 Demo County")
TOWNSHIPS = [("431099001", "城关镇 Chengguan Town"), ("431099002", "青山乡 Qingshan Township")]
VILLAGES = [
    ("431099001001", "东门社区 Dongmen Community"),
    ("431099001002", "河西村 Hexi Village"),
    ("431099002001", "青山村 Qingshan Village"),
]
STAFF = [
    ("admin", StaffRole.ADMIN, "431099", "县民政局管理员 County admin"),
    ("supervisor", StaffRole.SUPERVISOR, "431099001", "城关镇民政办 Chengguan supervisor"),
    ("fieldworker", StaffRole.FIELD_WORKER, "431099001002", "河西村协理员 Hexi village assistant"),
]
# (name, program, village, birth date, sequence, monthly amount, home coordinates)
BENEFICIARIES = [
    ("张秀英", Program.URBAN_MINIMUM_ALLOWANCE, "431099001001", "19420318", "024", "580.00", (27.8261, 112.9402)),
    ("李建国", Program.RURAL_MINIMUM_ALLOWANCE, "431099001002", "19510704", "011", "335.00", (27.8312, 112.9188)),
    ("王桂兰", Program.DESTITUTE_DISPERSED, "431099001002", "19380122", "042", "760.00", (27.8297, 112.9211)),
    ("刘德福", Program.DESTITUTE_CONCENTRATED, "431099002001", "19470915", "013", "760.00", (27.7903, 112.8870)),
    ("陈玉梅", Program.ORPHAN, "431099002001", "20140601", "026", "1200.00", (27.7921, 112.8855)),
]


# In the demo cycle: who checked in (and with whom), who is exempt; everyone else due misses it.
CHECKED_IN = {"李建国": "fieldworker", "王桂兰": "fieldworker", "陈玉梅": "admin"}
EXEMPT = {"刘德福": ExemptionKind.INSTITUTION_CARE}


def demo_id_number(village: str, birth: str, sequence: str) -> str:
    """A well-formed resident ID number in the demo county."""
    first17 = village[:6] + birth + sequence
    return first17 + check_character(first17)


def _credentials(settings: Settings) -> dict[str, str]:
    """Demo passwords, random per installation and kept (0600) in the instance folder."""
    path = Path(settings.instance_path) / "demo-credentials.json"
    if path.exists():
        return json.loads(path.read_text())
    passwords = {username: secrets.token_urlsafe(9) for username, *_ in STAFF}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(passwords, fh)
    return passwords


def seed_demo(ctx: Ctx) -> list[str]:
    """Create the demo data unless it exists; return lines that tell a newcomer how to log in."""
    session = ctx.session
    passwords = _credentials(ctx.settings)
    if session.scalar(select(Region.code).where(Region.code == COUNTY[0])) is None:
        actor = Actor(kind="system", id="demo-seed")
        for code, name in [COUNTY, *TOWNSHIPS, *VILLAGES]:
            regions.create_region(ctx, actor=actor, code=code, name=name)
        session.flush()
        for username, role, region_code, display_name in STAFF:
            staff.create_staff_user(
                ctx,
                actor=actor,
                username=username,
                password=passwords[username],
                role=role,
                region_code=region_code,
                display_name=display_name,
            )
        registrar = Actor(kind="system", id="demo-seed", region_code=COUNTY[0])
        for name, program, village, birth, sequence, amount, (lat, lon) in BENEFICIARIES:
            beneficiaries.create_beneficiary(
                ctx,
                actor=registrar,
                data={
                    "id_number": demo_id_number(village, birth, sequence),
                    "name": name,
                    "program": program,
                    "village_code": village,
                    "monthly_amount": Decimal(amount),
                    "home_lat": lat,
                    "home_lon": lon,
                },
            )
        session.flush()
    zone = cycles.office_zone(ctx.settings)
    if session.scalar(select(Cycle.id).where(Cycle.region_code == COUNTY[0])) is None:
        _seed_cycle(ctx, zone, last_ended_quarter(cycles.local_today(zone), ctx.settings.cycles.grace_days))
    return ["Demo logins (POST /api/v1/auth/token):"] + [
        f"  {username:<12} {passwords[username]:<14} {role.value} of {region_code}"
        for username, role, region_code, _ in STAFF
    ]


def last_ended_quarter(today: date, grace_days: int) -> tuple[date, date]:
    """(opening day, deadline) of the latest calendar quarter whose grace period ended before today."""
    opens_on = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    while True:
        opens_on -= relativedelta(months=3)
        deadline = opens_on + relativedelta(months=3) - timedelta(days=1)
        if deadline + timedelta(days=grace_days) < today:
            return opens_on, deadline


def _at(day: date, zone: tzinfo, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone)


def _seed_cycle(ctx: Ctx, zone: tzinfo, period: tuple[date, date]) -> None:
    session, settings = ctx.session, ctx.settings
    opens_on, deadline = period
    users = {user.username: user for user in session.scalars(select(StaffUser))}
    admin = staff_actor(users["admin"])
    # The people were on the rolls before the cycle opened (the seed registers them today).
    people = {person.name: person for person in session.scalars(select(Beneficiary))}
    for person in people.values():
        person.created_at = _at(opens_on - timedelta(days=60), zone)
    cycles.create_cycle(
        ctx,
        actor=admin,
        region_code=COUNTY[0],
        program=None,
        frequency=CycleFrequency.QUARTERLY,
        opens_on=opens_on,
        deadline=deadline,
        grace_days=settings.cycles.grace_days,
        # Created when the quarter began, as an office would have.
        today=opens_on,
    )
    for name, kind in EXEMPT.items():
        exemptions.grant_exemption(
            ctx,
            actor=admin,
            beneficiary=people[name],
            kind=kind,
            starts_on=opens_on,
            ends_on=deadline,
            reason="由供养机构确认在院 / Confirmed in residence by the care home",
        )
    session.flush()
    for offset, (name, helper) in enumerate(CHECKED_IN.items()):
        checkin = _assisted_checkin(
            session, people[name], users[helper], _at(opens_on + timedelta(days=20 + offset), zone)
        )
        verification.decide_review(
            ctx,
            actor=staff_actor(users["supervisor"] if helper == "fieldworker" else users["admin"]),
            checkin=checkin,
            verdict=CheckinState.VERIFIED,
            reason="演示数据：协助认证已核对 / Demo data: assisted check-in checked",
        )


def _assisted_checkin(session: Session, person: Beneficiary, helper: StaffUser, at: datetime) -> Checkin:
    """An assisted check-in of `person` sent to review at `at`, as the worker leaves an uncertain one."""
    challenge = CheckinChallenge(
        beneficiary_id=person.id,
        staff_id=helper.id,
        mode=CheckinMode.ASSISTED_STAFF,
        nonce=secrets.token_hex(16),
        actions=["blink", "turn_left"],
        issued_at=at,
        expires_at=at + timedelta(minutes=2),
        used_at=at,
    )
    session.add(challenge)
    session.flush()
    checkin = Checkin(
        beneficiary_id=person.id,
        challenge_id=challenge.id,
        client_id=str(uuid.uuid4()),
        mode=CheckinMode.ASSISTED_STAFF,
        staff_id=helper.id,
        region_code=person.village_code,
        device_info={"demo": True},
        state=CheckinState.REVIEW,
        reasons=["demo_seed"],
        created_at=at,
    )
    session.add(checkin)
    session.flush()
    return checkin


def demo_phone(ctx: Ctx, base_url: str) -> list[str]:
    """A fresh activation link for a demo beneficiary's phone (one whose face is enrolled, if any is)."""
    session = ctx.session
    people = session.scalars(
        select(Beneficiary)
        .where(
            Beneficiary.id_number_index.in_(
                [ctx.cipher.index(demo_id_number(v, b, s)) for _, _, v, b, s, *_ in BENEFICIARIES]
            )
        )
        .order_by(Beneficiary.created_at)
    ).all()
    if not people:
        return []
    person = next((p for p in people if checkins.is_enrolled(ctx, beneficiary_id=p.id)), people[0])
    admin = session.scalar(select(StaffUser).where(StaffUser.username == STAFF[0][0]))
    _device, code = auth.issue_activation_code(
        ctx, actor=auth.staff_actor(admin), beneficiary=person, label="demo phone"
    )
    lines = [
        f"Phone app: {base_url}/m/",
        f"  activation code for {person.name}: {code}  (or open {activation_url(base_url, code)})",
    ]
    if not checkins.is_enrolled(ctx, beneficiary_id=person.id):
        lines.append(f"  enrol a face first: POST /api/v1/beneficiaries/{person.id}/photos")
    return lines
