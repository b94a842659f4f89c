"""Background jobs: poll one, then fetch its report."""

from __future__ import annotations

import uuid

from flask import url_for
from flask.views import MethodView

from server.api.access import ctx, current_actor, staff_only
from server.api.errors import answers
from server.api.paging import Blueprint
from server.queue import enqueue
from server.schemas.beneficiary import ImportReportSchema
from server.schemas.cycle import EvidenceReportSchema
from server.schemas.death import DeathImportReportSchema
from server.schemas.job import JobSchema
from server.schemas.payment import PaymentRunSchema
from server.services import imports, jobs, payments
from server.services.audit import Actor

blp = Blueprint(
    "jobs",
    __name__,
    url_prefix="/api/v1",
    description="Background jobs (imports, payment run builds) and their reports",
)
REPORTS = {
    imports.ROSTER: ImportReportSchema(),
    imports.DEATHS: DeathImportReportSchema(),
    imports.EVIDENCE: EvidenceReportSchema(),
}


def start(actor: Actor, kind: str, data: bytes, params: dict | None = None) -> tuple[dict, int, dict]:
    """Store an upload as a job in a unit of work of its own, ring the worker once that has committed, and
    answer 202 with where to poll. Views calling this carry no @db.transaction."""
    job = jobs.start_job(
        ctx(), actor=actor, kinds=imports.KINDS, kind=kind, data=data, params=params or {}, ring=enqueue
    )
    return jobs.job_view(job), 202, {"Location": url_for("jobs.JobById", job_id=job.id)}


@blp.route("/jobs/<uuid:job_id>")
class JobById(MethodView):
    @staff_only()
    @answers(404)
    @blp.response(200, JobSchema)
    def get(self, job_id: uuid.UUID):
        """A job's state and progress (`done` of `total`); `result_url` once it is done."""
        return jobs.job_view(jobs.get_job(ctx(), actor=current_actor(), job_id=job_id))


@blp.route("/jobs/<uuid:job_id>/result")
class JobResult(MethodView):
    @staff_only()
    @answers(404)
    @blp.response(
        200,
        description="The report of a finished job: for an import, counts and every row's result, in the shape of "
        "ImportReport (roster), DeathImportReport or EvidenceReport; for a payment run's build, the PaymentRun",
    )
    def get(self, job_id: uuid.UUID):
        """A finished job's report (422 `not_done` before)."""
        context = ctx()
        job = jobs.get_job(context, actor=current_actor(), job_id=job_id)
        result = jobs.job_result(context, job=job)
        if job.kind == payments.BUILD:
            return PaymentRunSchema().dump(payments.built_run(context, actor=current_actor(), result=result))
        return REPORTS[job.kind].dump(imports.summary(job.kind, result))
