"""Reminders before a cycle's deadline (by default 14, 7 and 1 days) and once it is overdue.

Queueing is one INSERT … SELECT per cycle with ON CONFLICT DO NOTHING on (beneficiary, cycle, step),
so each person gets each step at most once however often the duty runs. Delivery hands pending rows
to a pluggable sender; rows are locked with SKIP LOCKED, so several workers never send one twice.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol

from sqlalchemy import func, literal, select

from server.config import ReminderSettings
from server.context import Ctx
from server.db import unit_of_work
from server.models import Beneficiary, Cycle, Notification, NotificationState, utcnow
from server.services import tallies
from server.services.audit import Actor, record
from server.services.cycles import due, moved_by, moves, office_zone, person_deadline, satisfied, window
from server.services.regions import in_scope, within
from server.sqlfuncs import insert_ignoring_conflicts, new_uuid

log = logging.getLogger(__name__)

OVERDUE = "overdue"
DELIVERY_BATCH = 50


def step_due(cycle: Cycle, today: date, days_before: tuple[int, ...], moved_days: int = 0) -> str | None:
    """The reminder step a cycle is at today for someone whose deadline moved by `moved_days`: the nearest
    `due_N` reached, `overdue` in the grace period."""
    deadline, closes_on = cycle.deadline + timedelta(days=moved_days), cycle.closes_on + timedelta(days=moved_days)
    if today < cycle.opens_on or today > closes_on:
        return None
    if today > deadline:
        return OVERDUE
    left = (deadline - today).days
    reached = [days for days in days_before if left <= days]
    # Only the current step: a reminder whose day has passed is not worth sending late.
    return f"due_{min(reached)}" if reached else None


@dataclass(frozen=True)
class Reminder:
    """What a sender needs: never a name or an ID number; the phone only for senders that dial it."""

    notification_id: uuid.UUID
    beneficiary_id: uuid.UUID
    step: str
    deadline: date
    closes_on: date
    phone: str | None

    @property
    def text_zh(self) -> str:
        if self.step == OVERDUE:
            return f"您的生存认证已逾期，请在{self.closes_on:%Y年%m月%d日}前完成，或联系村协理员。"
        return f"请在{self.deadline:%Y年%m月%d日}前完成本期生存认证（刷脸打卡）。"

    @property
    def text_en(self) -> str:
        if self.step == OVERDUE:
            return f"Your check-in is overdue: please do it by {self.closes_on} or ask your village assistant."
        return f"Please do your check-in by {self.deadline}."


class SendFailed(Exception):
    """A reminder could not be delivered; `code` is safe to store and log."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Sender(Protocol):
    channel: str
    needs_phone: bool

    def send(self, reminder: Reminder) -> None:
        """Deliver one reminder or raise SendFailed."""


class LogSender:
    """Writes reminders to the log: the embedded default, and a record where no gateway exists."""

    channel = "log"
    needs_phone = False

    def send(self, reminder: Reminder) -> None:
        log.info("reminder %s for beneficiary %s, due %s", reminder.step, reminder.beneficiary_id, reminder.deadline)


class WebhookSender:
    """POSTs each reminder as JSON to an SMS gateway, retrying connection errors, 429 and 5xx with backoff."""

    channel = "sms"
    needs_phone = True

    def __init__(self, url: str, *, timeout: float, retries: int) -> None:
        # requests is a quarter of a second to import: only a process that sends SMS pays it.
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        self.url = url
        self.timeout = timeout
        self.http = requests.Session()
        retry = Retry(
            total=retries,
            backoff_factor=0.5,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"POST"}),
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        self.http.mount("http://", HTTPAdapter(max_retries=retry))
        self.http.mount("https://", HTTPAdapter(max_retries=retry))

    def send(self, reminder: Reminder) -> None:
        import requests

        if not reminder.phone:
            raise SendFailed("no_phone")
        body = {
            # The gateway can drop a repeat of the same id if our answer was lost.
            "id": str(reminder.notification_id),
            "to": reminder.phone,
            "step": reminder.step,
            "deadline": reminder.deadline.isoformat(),
            "text_zh": reminder.text_zh,
            "text_en": reminder.text_en,
        }
        try:
            response = self.http.post(
                self.url, json=body, timeout=self.timeout, headers={"Idempotency-Key": body["id"]}
            )
        except requests.RequestException as exc:
            # The exception text may quote the request; only its type is logged.
            raise SendFailed(f"unreachable:{type(exc).__name__}"[:64]) from None
        if response.status_code >= 300:
            raise SendFailed(f"http_{response.status_code}")


def sender_from_settings(settings: ReminderSettings) -> Sender:
    if settings.sender == "webhook":
        return WebhookSender(
            settings.webhook_url, timeout=settings.webhook_timeout_seconds, retries=settings.webhook_retries
        )
    return LogSender()


@dataclass
class ReminderRun:
    queued: dict[str, dict[str, int]] = field(default_factory=dict)
    sent: int = 0
    failed: int = 0
    retrying: int = 0


def queue_reminders(ctx: Ctx, *, today: date, zone: tzinfo, days_before: tuple[int, ...], channel: str) -> dict:
    """Add the step due today for everyone due in each running cycle who has no proof yet, counted from
    the person's own deadline (an exemption that ended before the cycle's may have moved it).

    Returns {cycle id: {step: rows added}} for cycles that added any."""
    queued: dict[str, dict[str, int]] = {}
    now = utcnow()
    for cycle in ctx.session.scalars(select(Cycle).where(Cycle.opens_on <= today, Cycle.swept_at.is_(None))):
        win = window(cycle, zone)
        # Nearly everyone keeps the cycle's deadline; the few whose deadline moved are grouped by how far.
        for moved_days in (0, *moves(ctx, win)):
            step = step_due(cycle, today, days_before, moved_days)
            if step is None:
                continue
            columns = {
                "id": new_uuid(),
                "beneficiary_id": Beneficiary.id,
                "cycle_id": literal(cycle.id),
                "step": literal(step),
                "channel": literal(channel),
                "state": literal(NotificationState.PENDING.value),
                "attempts": literal(0),
                "created_at": literal(now, Notification.created_at.type),
                "updated_at": literal(now, Notification.updated_at.type),
            }
            rows = select(*columns.values()).where(
                *due(cycle, win), moved_by(win, moved_days), ~satisfied(cycle, win, Beneficiary.id)
            )
            statement = insert_ignoring_conflicts(ctx.session, Notification).from_select(list(columns), rows)
            statement = statement.on_conflict_do_nothing(index_elements=["beneficiary_id", "cycle_id", "step"])
            added = ctx.session.execute(statement, execution_options={"preserve_rowcount": True}).rowcount
            if added:
                steps = queued.setdefault(str(cycle.id), {})
                steps[step] = steps.get(step, 0) + added
    if queued:
        record(
            ctx.session,
            actor=Actor.system(),
            action="reminders.queued",
            object_type="reminders",
            object_id=today.isoformat(),
            details={"cycles": queued},
        )
    return queued


def deliver(ctx: Ctx, *, sender: Sender, max_attempts: int, run: ReminderRun) -> None:
    """Hand pending reminders to the sender a batch at a time; each batch is one unit of work with one audit entry."""
    started = utcnow()
    while _deliver_batch(ctx, sender, max_attempts=max_attempts, run=run, started=started):
        pass


def _deliver_batch(ctx: Ctx, sender: Sender, *, max_attempts: int, run: ReminderRun, started: datetime) -> bool:
    """Send one batch and commit what happened to it; False when nothing was left to send."""
    with unit_of_work(ctx.session):
        # Rows this run already tried were updated after `started`: a retry waits for the next run.
        batch = ctx.session.scalars(
            select(Notification)
            .where(Notification.state == NotificationState.PENDING, Notification.updated_at < started)
            .order_by(Notification.created_at, Notification.id)
            .limit(DELIVERY_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        if not batch:
            return False
        outcome = {"sent": 0, "failed": 0, "retrying": 0}
        for notification in batch:
            cycle = ctx.session.get(Cycle, notification.cycle_id)
            # Only the phone column is read (and so decrypted), and only for a sender that dials it.
            phone = (
                ctx.session.scalar(select(Beneficiary.phone).where(Beneficiary.id == notification.beneficiary_id))
                if sender.needs_phone
                else None
            )
            # The person's own deadline: an exemption that ended before the cycle's may have moved it.
            deadline, closes_on = person_deadline(
                ctx, cycle=cycle, beneficiary_id=notification.beneficiary_id, zone=office_zone(ctx.settings)
            )
            reminder = Reminder(
                notification_id=notification.id,
                beneficiary_id=notification.beneficiary_id,
                step=notification.step,
                deadline=deadline,
                closes_on=closes_on,
                phone=phone,
            )
            notification.attempts += 1
            notification.channel = sender.channel
            try:
                sender.send(reminder)
            except SendFailed as exc:
                notification.error = exc.code
                final = exc.code == "no_phone" or notification.attempts >= max_attempts
                notification.state = NotificationState.FAILED if final else NotificationState.PENDING
                outcome["failed" if final else "retrying"] += 1
                log.warning("reminder %s for %s: %s", notification.step, notification.beneficiary_id, exc.code)
            else:
                notification.state = NotificationState.SENT
                notification.sent_at = utcnow()
                notification.error = None
                outcome["sent"] += 1
        record(
            ctx.session,
            actor=Actor.system(),
            action="reminders.delivered",
            object_type="reminders",
            object_id=started.date().isoformat(),
            details={"channel": sender.channel, **outcome},
        )
    run.sent += outcome["sent"]
    run.failed += outcome["failed"]
    run.retrying += outcome["retrying"]
    return True


def run_reminders(ctx: Ctx, *, today: date, zone: tzinfo, sender: Sender) -> ReminderRun:
    """Queue today's reminder steps, then deliver everything pending; opens its own units of work."""
    run = ReminderRun()
    with unit_of_work(ctx.session):
        run.queued = queue_reminders(
            ctx, today=today, zone=zone, days_before=ctx.settings.reminders.steps, channel=sender.channel
        )
    deliver(ctx, sender=sender, max_attempts=ctx.settings.reminders.max_attempts, run=run)
    return run


def list_notifications(ctx: Ctx, *, beneficiary: Beneficiary) -> list[Notification]:
    """A beneficiary's reminders, latest first."""
    return list(
        ctx.session.scalars(
            select(Notification)
            .where(Notification.beneficiary_id == beneficiary.id)
            .order_by(Notification.created_at.desc(), Notification.id)
        )
    )


def _step_order(step: str) -> tuple[int, int]:
    # due_14, due_7, due_1, then overdue: the order a person receives them.
    days = step.removeprefix("due_")
    return (0, -int(days)) if days.isdigit() else (1, 0)


def counts_per_step(ctx: Ctx, *, actor: Actor, cycle: Cycle) -> list[tuple[str, dict[str, int]]]:
    """For the actor's part of the cycle, how many reminders of each step are sent, waiting and failed,
    in the order they go out; one grouped query."""
    query = select(Notification.step, Notification.state, func.count()).where(Notification.cycle_id == cycle.id)
    if not within(actor.region_code, cycle.region_code):
        # A cycle wider than the actor's region (the county's, seen from a township): only its people.
        query = query.join(Beneficiary, Beneficiary.id == Notification.beneficiary_id).where(
            in_scope(Beneficiary.village_code, actor.region_code)
        )
    counts: dict[str, dict[str, int]] = {}
    for step, state, count in ctx.session.execute(query.group_by(Notification.step, Notification.state)):
        counts.setdefault(step, {s.value: 0 for s in NotificationState})[state.value] = count
    return sorted(counts.items(), key=lambda item: _step_order(item[0]))


def tallied_counts_per_step(
    ctx: Ctx, *, actor: Actor, cycle: Cycle, recount: bool = False
) -> list[tuple[str, dict[str, int]]]:
    """counts_per_step(), as counted at most tallies.MAX_AGE ago (or now, with `recount`)."""
    figures, _ = tallies.tallied(
        ctx,
        report="cycle_reminders",
        key=str(cycle.id),
        region_code=actor.region_code,
        count=lambda: {"steps": counts_per_step(ctx, actor=actor, cycle=cycle)},
        recount=recount,
    )
    return [(step, counts) for step, counts in figures["steps"]]
