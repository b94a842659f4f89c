"""Demo data for the embedded default: one county, its townships and villages, staff and beneficiaries."""

from __future__ import annotations

import json
import os
import secrets
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.config import Settings
from server.crypto import cipher
from server.models import Beneficiary, Program, Region, StaffRole, StaffUser
from server.services import auth, beneficiaries, checkins, regions, staff
from server.services.activation_links import activation_url
from server.services.audit import Actor
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


def seed_demo(session: Session, settings: Settings) -> list[str]:
    """Create the demo data unless it exists; return lines that tell a newcomer how to log in."""
    passwords = _credentials(settings)
    if session.scalar(select(Region.code).where(Region.code == COUNTY[0])) is None:
        actor = Actor(kind="system", id="demo-seed")
        for code, name in [COUNTY, *TOWNSHIPS, *VILLAGES]:
            regions.create_region(session, actor=actor, code=code, name=name)
        session.flush()
        for username, role, region_code, display_name in STAFF:
            staff.create_staff_user(
                session,
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
                session,
                cipher(),
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
        session.commit()
    return ["Demo logins (POST /api/v1/auth/token):"] + [
        f"  {username:<12} {passwords[username]:<14} {role.value} of {region_code}"
        for username, role, region_code, _ in STAFF
    ]


def demo_phone(session: Session, settings: Settings, base_url: str) -> list[str]:
    """A fresh activation link for a demo beneficiary's phone (one whose face is enrolled, if any is)."""
    people = session.scalars(
        select(Beneficiary)
        .where(
            Beneficiary.id_number_index.in_(
                [cipher().index(demo_id_number(v, b, s)) for _, _, v, b, s, *_ in BENEFICIARIES]
            )
        )
        .order_by(Beneficiary.created_at)
    ).all()
    if not people:
        return []
    person = next((p for p in people if checkins.is_enrolled(session, p.id)), people[0])
    admin = session.scalar(select(StaffUser).where(StaffUser.username == STAFF[0][0]))
    _device, code = auth.issue_activation_code(
        session, settings, cipher(), actor=auth.staff_actor(admin), beneficiary=person, label="demo phone"
    )
    lines = [
        f"Phone app: {base_url}/m/",
        f"  activation code for {person.name}: {code}  (or open {activation_url(base_url, code)})",
    ]
    if not checkins.is_enrolled(session, person.id):
        lines.append(f"  enrol a face first: POST /api/v1/beneficiaries/{person.id}/photos")
    return lines
