"""What a field worker's phone downloads before a round: the people of their region it may visit offline."""

from __future__ import annotations

from typing import Any

from server.context import Ctx
from server.models import Beneficiary, BeneficiaryStatus
from server.services import beneficiaries, cycles, enrolment, phone_home
from server.services.audit import Actor, record

# A village has a few hundred people at most; a worker whose region is larger gets the first ones by name.
ROSTER_LIMIT = 2000


def roster(ctx: Ctx, *, actor: Actor) -> list[dict[str, Any]]:
    """The actor's region's beneficiaries still in payment: masked ID, home position, enrolment state and
    whether they are covered, due or overdue in the period today falls in. The download is audited."""
    people = ctx.session.scalars(
        beneficiaries.scoped_query(actor)
        .where(Beneficiary.status != BeneficiaryStatus.TERMINATED)
        .order_by(Beneficiary.village_code, Beneficiary.name)
        .limit(ROSTER_LIMIT)
    ).all()
    zone = cycles.office_zone(ctx.settings)
    today = cycles.local_today(zone)
    rows = []
    for person in people:
        period = phone_home.period_standing(ctx, beneficiary=person, today=today, zone=zone)
        standing = "covered" if period["satisfied"] else "overdue" if period["deadline"] < today else "due"
        rows.append(
            {
                "id": person.id,
                "name": person.name,
                "village_code": person.village_code,
                "household_code": person.household_code,
                "id_number_masked": person.id_number_masked,
                "status": person.status.value,
                "home_lat": person.home_lat,
                "home_lon": person.home_lon,
                "enrolment": enrolment.enrolment_state(enrolment.photos_of(ctx, beneficiary_id=person.id)),
                "standing": standing,
                "due_by": period["deadline"],
            }
        )
    record(
        ctx.session,
        actor=actor,
        action="visit_roster.downloaded",
        object_type="region",
        object_id=actor.region_code,
        region_code=actor.region_code,
        details={"beneficiaries": len(rows)},
    )
    return rows
