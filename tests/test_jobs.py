"""Jobs: an import interrupted mid-way resumes from its last committed batch without duplicating rows;
a row the database refuses is reported, never a 500; jobs are scoped to their region."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bench.imports import roster_csv, roster_rows
from server import db
from server.context import Ctx
from server.models import Beneficiary, Job, JobState, StaffUser, utcnow
from server.services import imports, jobs
from server.services.auth import staff_actor
from tests.conftest import COUNTY
from tests.support.jobs import finished_job, import_report


class Crash(Exception):
    """Stands for the worker dying after a batch committed."""


def _crash_after_first_batch(progress: jobs.Progress) -> None:
    raise Crash(progress)


def test_an_interrupted_import_resumes_after_its_last_batch_without_duplicates(app, world):
    rows = roster_rows(2_500, county=COUNTY[:6], villages=(world["village_a"], world["village_b"]))
    with app.app_context():
        ctx = Ctx.current()
        session = ctx.session
        admin = staff_actor(session.scalar(select(StaffUser).where(StaffUser.username == "admin")))
        with db.unit_of_work(session):
            job = jobs.create_job(
                ctx, actor=admin, kinds=imports.KINDS, kind=imports.ROSTER, data=roster_csv(rows), params={}
            )
        with pytest.raises(Crash):
            jobs.run_job(
                ctx,
                job_id=job.id,
                kinds=imports.KINDS,
                actor_of=staff_actor,
                on_batch=_crash_after_first_batch,
            )
        session.rollback()
        interrupted = session.get(Job, job.id)
        assert (interrupted.state, interrupted.done, interrupted.total) == (JobState.RUNNING, 1_000, 2_500)
        assert session.scalar(select(func.count()).select_from(Beneficiary)) == 1_000
        # Its lease is live: nobody else takes it until the lease runs out (the worker died).
        assert jobs.run_job(ctx, job_id=job.id, kinds=imports.KINDS, actor_of=staff_actor) == "not_claimable"
        with db.unit_of_work(session):
            session.execute(update(Job).values(lease_expires_at=utcnow() - timedelta(seconds=1)))

        assert jobs.run_job(ctx, job_id=job.id, kinds=imports.KINDS, actor_of=staff_actor) == "done"
        assert session.scalar(select(func.count()).select_from(Beneficiary)) == 2_500
        session.expire_all()
        done = session.get(Job, job.id)
        report = jobs.job_result(ctx, job=done)
    assert report["counts"] == {"created": 2_500}
    assert [r["row"] for r in report["rows"]] == list(range(2, 2_502))


@pytest.mark.usefixtures("celery_worker")
def test_a_row_the_database_refuses_is_reported_and_the_others_go_in(api, world):
    village = world["village_a"]
    rows = roster_rows(3, county=village[:6], villages=(village,))
    rows[1][1] = "bad\x00name"
    supervisor = api.as_("supervisor_a")
    report = import_report(supervisor, "/api/v1/beneficiaries/import", {"file": ("r.csv", roster_csv(rows))})
    assert (report["created"], report["failed"]) == (2, 1)
    assert [r["status"] for r in report["rows"]] == ["created", "error", "created"]


@pytest.mark.usefixtures("celery_worker")
def test_a_job_is_seen_only_in_its_region_and_its_report_only_when_done(api, world):
    village = world["village_a"]
    supervisor = api.as_("supervisor_a")
    started = supervisor.post(
        "/api/v1/beneficiaries/import", files={"file": ("r.csv", roster_csv(roster_rows(2, village[:6], (village,))))}
    )
    assert started.status_code == 202
    body = started.json()
    assert set(body) == {"id", "kind", "state", "done", "total", "result_url", "error"}
    assert body["kind"] == "roster_import"
    assert api.as_("supervisor_b").get(started.headers["Location"]).status_code == 404
    assert finished_job(supervisor, started.headers["Location"])["state"] == "done"
    assert supervisor.get(f"/api/v1/jobs/{body['id']}/result").json()["created"] == 2
