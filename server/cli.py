"""The `fieldcheck` command: database, users, imports, the OpenAPI document, and running the service."""

from __future__ import annotations

import getpass
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import FlaskGroup

from server.services.errors import DomainError

if TYPE_CHECKING:
    from server.models import StaffUser
    from server.services.audit import Actor

# `fieldcheck --help` and a command's --help import click and Flask's command line only (an option whose
# choices are a model's enum loads the models for its command's help): the app, SQLAlchemy, Celery and
# the face library load inside the command that runs, hence the imports inside the functions below.
SPEC_PATH = Path("api_spec/openapi.json")
# Commands that set a deployment up may create its instance folder and keys; commands that read no data
# run on throwaway keys; every other command works on an existing deployment and refuses without one.
CREATES_INSTANCE = frozenset({"init-db", "demo"})
# Every `bench` command seeds a scratch database or works on photos alone.
NEEDS_NO_INSTANCE = frozenset({"openapi", "calibrate", "bench"})
# Commands run services, not requests: only these build the app with its API and console (a second
# of imports the others skip). `serve` and `demo` start gunicorn, whose processes build their own.
NEEDS_HTTP = frozenset({"openapi"})
# The exit code of a command that could not do its work at all (no database, no keys, unreachable);
# `audit verify` exits 1 only for a chain it read and found broken.
COULD_NOT_RUN = 2


class CouldNotRun(click.ClickException):
    exit_code = COULD_NOT_RUN


def _settings():
    return current_app.config["FIELDCHECK"]


def _cli_actor() -> Actor:
    from server.services.audit import Actor

    return Actor(kind="system", id=f"cli:{getpass.getuser()}")


def _fail(exc: DomainError) -> click.ClickException:
    return click.ClickException(f"{exc.message} {json.dumps(exc.errors, ensure_ascii=False)}")


class _ModelChoice(click.Choice):
    """One of the values of an enum in server.models, loaded when an option is parsed or its command's help
    is shown, never to list the commands."""

    def __init__(self, enum_name: str) -> None:
        self.enum_name = enum_name
        self.case_sensitive = True

    @cached_property
    def choices(self) -> tuple[str, ...]:
        import server.models

        return tuple(member.value for member in getattr(server.models, self.enum_name))


def _command_path(ctx: click.Context) -> str:
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def _create_app_for_command():
    """The app for the command being run, which decides what it may do with the instance folder."""
    from server.app import create_app
    from server.config import ConfigError, InstanceUse, Settings

    command = _command_path(click.get_current_context())
    if command in CREATES_INSTANCE:
        use = InstanceUse.CREATE
    elif command.split(" ", 1)[0] in NEEDS_NO_INSTANCE:
        use = InstanceUse.NONE
    else:
        use = InstanceUse.REQUIRE
    try:
        return create_app(Settings.from_env(use=use), http=command in NEEDS_HTTP)
    except ConfigError as exc:
        raise CouldNotRun(str(exc)) from exc


class _Group(FlaskGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        # FlaskGroup builds the app to list the commands it adds; FieldCheck's app adds none, and
        # `fieldcheck --help` must neither touch an instance folder nor wait for one.
        return sorted(self.commands)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        # FieldCheck's commands are all its own: FlaskGroup would first import every `flask.commands`
        # plugin (Flask-Limiter's loads rich and limits, a third of the start of any command) and build
        # the app to look up a name it does not know.
        return click.Group.get_command(self, ctx, name)


@click.group(
    cls=_Group,
    create_app=_create_app_for_command,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
)
def cli() -> None:
    """FieldCheck administration."""


@cli.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema to the latest migration."""
    # Alembic is imported here, not at the top: it is a third of a second every other command skips.
    from server import db, migrate

    migrate.upgrade(db.engine())
    click.echo(f"database at {db.engine().url.render_as_string(hide_password=True)} is up to date")


@cli.command("create-region")
@click.argument("code")
@click.argument("name")
def create_region(code: str, name: str) -> None:
    """Add a county (6 digits), township (9) or village (12)."""
    from server import db
    from server.context import Ctx
    from server.services import regions

    try:
        ctx = Ctx.current()
        with db.unit_of_work(ctx.session):
            regions.create_region(ctx, actor=_cli_actor(), code=code, name=name)
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"region {code} created")


@cli.command("create-user")
@click.argument("username")
@click.option("--role", type=_ModelChoice("StaffRole"), required=True)
@click.option("--region", "region_code", required=True, help="Region code the account is limited to.")
@click.option("--name", "display_name", help="Display name.")
@click.password_option()
def create_user(username: str, role: str, region_code: str, display_name: str | None, password: str) -> None:
    """Create a staff account."""
    from server import db
    from server.context import Ctx
    from server.models import StaffRole
    from server.services import staff

    try:
        ctx = Ctx.current()
        with db.unit_of_work(ctx.session):
            staff.create_staff_user(
                ctx,
                actor=_cli_actor(),
                username=username,
                password=password,
                role=StaffRole(role),
                region_code=region_code,
                display_name=display_name,
            )
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"user {username} created")


@cli.command("import-beneficiaries")
@click.argument("csv_file", type=click.File("rb"))
@click.option("--as", "username", required=True, help="Staff account the import is done as (its region applies).")
def import_beneficiaries(csv_file, username: str) -> None:
    """Import a roster CSV; prints a per-row report of what failed and why."""
    from server import db
    from server.context import Ctx
    from server.services import beneficiaries, roster_csv
    from server.services.auth import staff_actor

    session = db.session()
    user = _importer(session, username)
    data = csv_file.read()
    try:
        rows = list(roster_csv.read_roster(data))
    except DomainError as exc:
        raise _fail(exc) from exc
    with click.progressbar(length=len(rows), label="importing", file=sys.stderr) as bar:
        report = beneficiaries.import_roster(
            Ctx.current(), actor=staff_actor(user), rows=rows, on_row=lambda _row: bar.update(1)
        )
    summary = roster_csv.summarise(report)
    for row in summary["rows"]:
        for error in row["errors"]:
            click.echo(f"row {row['row']}: {error['field']}: {error['reason']}")
    click.echo(
        f"created {summary['created']}, updated {summary['updated']}, "
        f"unchanged {summary['unchanged']}, failed {summary['failed']}"
    )


def _importer(session, username: str) -> StaffUser:
    from sqlalchemy import select

    from server.models import StaffRole, StaffUser

    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None or user.role == StaffRole.FIELD_WORKER:
        raise click.ClickException(f"{username} is not an admin or supervisor account")
    return user


@cli.command("import-deaths")
@click.argument("csv_file", type=click.File("rb"))
@click.option("--as", "username", required=True, help="Staff account the import is done as (its region applies).")
def import_deaths(csv_file, username: str) -> None:
    """Import death records (id_number,date_of_death[,source,reference]); prints a per-row report."""
    from server import db
    from server.context import Ctx
    from server.services import deaths
    from server.services.auth import staff_actor

    session = db.session()
    user = _importer(session, username)
    try:
        with db.unit_of_work(session):
            report = deaths.import_deaths(
                Ctx.current(), actor=staff_actor(user), rows=deaths.read_death_records(csv_file.read())
            )
    except DomainError as exc:
        raise _fail(exc) from exc
    for row in report["rows"]:
        for error in row["errors"]:
            click.echo(f"row {row['row']}: {error['field']}: {error['reason']}")
        if row["status"] == "case_opened":
            click.echo(f"row {row['row']}: death_record case {row['case_id']} opened")
    click.echo(
        f"cases opened {report['case_opened']}, already recorded {report['already_recorded']}, "
        f"already terminated {report['already_terminated']}, no match {report['no_match']}, "
        f"failed {report['failed']}, payments flagged {report['flagged_payments']}"
    )


def _today(value: datetime | None) -> date:
    from server.services import cycles

    return value.date() if value else cycles.office_today(_settings())


TODAY_OPTION = click.option(
    "--today", type=click.DateTime(["%Y-%m-%d"]), help="Act as if it were this local date (default: today)."
)


@cli.command("sweep")
@TODAY_OPTION
def sweep_command(today: datetime | None) -> None:
    """Open missed_checkin cases for every cycle whose grace period ended before today; idempotent."""
    from server import db
    from server.context import Ctx
    from server.services import cycles, sweep

    ctx = Ctx.current()
    with db.unit_of_work(ctx.session):
        result = sweep.sweep(ctx, today=_today(today), zone=cycles.office_zone(_settings()), actor=_cli_actor())
    for cycle_id, opened in result.opened.items():
        click.echo(f"cycle {cycle_id}: {opened} cases opened")
    click.echo(f"swept {len(result.opened)} cycles, opened {result.total} cases")


@cli.command("reminders")
@TODAY_OPTION
def reminders_command(today: datetime | None) -> None:
    """Queue today's reminder steps and send what is pending with the configured sender."""
    from server.context import Ctx
    from server.services import cycles, reminders

    settings = _settings()
    run = reminders.run_reminders(
        Ctx.current(),
        today=_today(today),
        zone=cycles.office_zone(settings),
        sender=reminders.sender_from_settings(settings.reminders),
    )
    for cycle_id, steps in run.queued.items():
        for step, count in steps.items():
            click.echo(f"cycle {cycle_id}: {count} reminders queued ({step})")
    click.echo(f"sent {run.sent}, failed {run.failed}, to retry {run.retrying}")


@cli.command("purge")
@TODAY_OPTION
def purge_command(today: datetime | None) -> None:
    """Remove biometric objects past their retention period (the hourly duty, by hand); idempotent."""
    from server import db
    from server.context import Ctx
    from server.models import utcnow
    from server.services import cycles, retention

    ctx = Ctx.current()
    day = _today(today)
    # --today moves the clock too: the purge acts as it would at the start of that local date.
    zone = cycles.office_zone(_settings())
    now = utcnow() if today is None else datetime.combine(day, datetime.min.time(), tzinfo=zone)
    with db.unit_of_work(ctx.session):
        result = retention.purge(ctx, now=now, today=day, actor=_cli_actor())
    click.echo(
        f"purged {result.checkin_frames} check-in frames, {result.visit_photos} visit photos, "
        f"{result.enrolment_photos} enrolment photos, {result.face_templates} face templates; "
        f"{result.failed} objects to retry"
    )


@cli.command("rotate-data-key")
@click.option(
    "--new-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="A file holding the new key as FIELDCHECK_DATA_KEY takes it (base64 of 32 bytes); never on the command line.",
)
@click.option("--check", is_flag=True, help="Only count the values and objects the new key cannot open yet.")
def rotate_data_key_command(new_key_file: Path, check: bool) -> None:
    """Re-encrypt every encrypted value and object under a new data key (stop the API and the workers first).

    A run that stops part-way is run again. Unused activation codes are voided: issue new ones.
    """
    from server.config import PREFIX, ConfigError, decode_data_key
    from server.context import Ctx
    from server.crypto import DataCipher, DecryptionError
    from server.services import key_rotation

    ctx = Ctx.current()
    new_key = new_key_file.read_text().strip()
    try:
        new = DataCipher(decode_data_key(new_key))
    except ConfigError as exc:
        raise click.ClickException(f"{new_key_file}: {exc}") from exc
    if check:
        left = key_rotation.remaining(ctx, cipher=new)
        click.echo(f"{left} values and objects the new key cannot open yet")
        sys.exit(1 if left else 0)
    if key_rotation.key_fingerprint(new) == key_rotation.key_fingerprint(ctx.cipher):
        raise click.ClickException("the new key is the key in use: make a new one")
    try:
        done = key_rotation.rotate(ctx, new=new, actor=_cli_actor())
    except DecryptionError as exc:
        raise click.ClickException(f"{exc}; what was done so far is kept, and a run again carries on") from exc
    click.echo(
        f"re-encrypted {done.values} values and {done.objects} objects under key {key_rotation.key_fingerprint(new)}"
        f" ({done.already} were already); {done.voided_codes} unused activation codes voided"
    )
    backups = "backups made before now open only with the old key: keep it while they are needed"
    if os.environ.get(f"{PREFIX}DATA_KEY"):
        click.echo(f"Now set {PREFIX}DATA_KEY to the new key and start the service; {backups}.")
    else:
        # The embedded default keeps its key in the instance folder: the new one takes its place.
        _replace_instance_key(ctx.settings.instance_path / "data.key", new_key)
        click.echo(f"The new key is now in {ctx.settings.instance_path / 'data.key'}; {backups}.")


def _replace_instance_key(path: Path, key: str) -> None:
    """Put the key in place whole and durably: everything is already encrypted under it."""
    staged = path.with_name(".data.key.new")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(staged, path)
    # The rename is durable only once the folder is synced: a crash could otherwise bring the old key back.
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


@cli.group("cycles")
def cycles_group() -> None:
    """Check-in cycles."""


@cycles_group.command("generate")
@click.option("--region", "region_code", required=True, help="County, township or village code.")
@click.option("--year", type=int, required=True)
@click.option("--frequency", type=_ModelChoice("CycleFrequency"), default="quarterly")
@click.option("--program", type=_ModelChoice("Program"), help="Default: every programme.")
@click.option("--grace-days", type=click.IntRange(0, 90), help="Default: FIELDCHECK_CYCLE_GRACE_DAYS.")
def generate_cycles(region_code: str, year: int, frequency: str, program: str | None, grace_days: int | None) -> None:
    """Create the standard cycles of a year for a region; periods already past or covered are skipped."""
    from server import db
    from server.context import Ctx
    from server.models import CycleFrequency, Program
    from server.services import cycles

    settings = _settings()
    try:
        ctx = Ctx.current()
        with db.unit_of_work(ctx.session):
            created, skipped = cycles.generate_cycles(
                ctx,
                actor=_cli_actor(),
                region_code=region_code,
                year=year,
                frequency=CycleFrequency(frequency),
                program=Program(program) if program else None,
                grace_days=settings.cycles.grace_days if grace_days is None else grace_days,
                today=_today(None),
            )
    except DomainError as exc:
        raise _fail(exc) from exc
    for cycle in created:
        click.echo(f"created {cycle.opens_on} to {cycle.deadline} (grace {cycle.grace_days} days): {cycle.id}")
    for opens_on, reason in skipped:
        click.echo(f"skipped the period opening {opens_on}: {reason}")


@cli.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the whole chain; exit 1 and name the first broken link if any entry was edited, deleted or moved,
    exit 2 if the chain could not be read at all."""
    from sqlalchemy.exc import SQLAlchemyError

    from server.context import Ctx
    from server.services.audit import find_break

    try:
        broken = find_break(Ctx.current())
    except SQLAlchemyError as exc:
        raise CouldNotRun(f"could not read the audit log, so nothing was checked: {type(exc).__name__}") from exc
    if broken is None:
        click.echo("audit chain intact")
        return
    click.echo(f"audit chain broken at seq {broken.seq} ({broken.problem}): {broken.description}")
    sys.exit(1)


@cli.command("openapi")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=SPEC_PATH, show_default=True)
def openapi(output: Path) -> None:
    """Write the OpenAPI document generated from the code (sorted keys, stable)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_openapi())
    click.echo(f"wrote {output}")


def render_openapi() -> str:
    """The OpenAPI document as the checked-in file holds it."""
    spec = current_app.extensions["fieldcheck.api"].spec.to_dict()
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@cli.command("worker")
@click.option("--beat/--no-beat", default=False, help="Also run the beat scheduler (exactly one per deployment).")
@click.option("--concurrency", type=int, default=None, help="Processes; default one per core (face work is CPU-bound).")
def worker(beat: bool, concurrency: int | None) -> None:
    """Run a Celery worker for this app."""
    celery = current_app.extensions["fieldcheck.celery"]
    argv = ["worker", "--loglevel=INFO"]
    if _settings().embedded:
        # One process tree on one machine: the SQLite broker wants a single consumer.
        argv += ["--pool=solo"]
    else:
        argv += [f"--concurrency={concurrency or os.cpu_count() or 1}"]
    if beat:
        argv.append("--beat")
    celery.worker_main(argv)


@cli.command("beat")
def beat() -> None:
    """Run the beat scheduler for periodic duties; run exactly one."""
    # Beat keeps its schedule file in the instance folder, which a fresh deployment may not have yet.
    _settings().instance_path.mkdir(parents=True, exist_ok=True)
    current_app.extensions["fieldcheck.celery"].start(["beat", "--loglevel=INFO"])


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", type=int, help="gunicorn worker processes  [default: two per core, and one more]")
@click.option("--with-worker", is_flag=True, help="Also run a Celery worker with beat (the embedded default).")
def serve(host: str, port: int, workers: int | None, with_worker: bool) -> None:
    """Serve the API with gunicorn, optionally with a background worker in the same process tree."""
    from server.serving import default_workers

    run_service(host=host, port=port, workers=workers or default_workers(), with_worker=with_worker)


def run_service(*, host: str, port: int, workers: int, with_worker: bool) -> None:
    from server.serving import gunicorn_command

    env = {**os.environ, "FIELDCHECK_INSTANCE_PATH": str(_settings().instance_path)}
    commands = [gunicorn_command(host=host, port=port, workers=workers)]
    if with_worker:
        commands.append([sys.executable, "-m", "server.cli", "worker", "--beat"])
    children = [subprocess.Popen(command, env=env) for command in commands]

    def stop(*_args) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    base = f"http://{host}:{port}"
    if _answers(f"{base}/api/v1", children):
        click.echo(f"FieldCheck on {base}/  (API: {base}/api/v1, docs: {base}/docs)")
    try:
        # Whichever child ends first takes the others with it: half a service is worse than none.
        os.wait()
    finally:
        stop()
        for child in children:
            child.wait()


def _answers(url: str, children: list[subprocess.Popen], timeout: float = 120.0) -> bool:
    """Wait until the service answers at url, so the address is printed only once it works."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    click.echo(f"FieldCheck did not answer at {url} within {timeout:.0f} s", err=True)
    return False


@cli.command("calibrate")
@click.argument("pairs_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--from-gallery",
    is_flag=True,
    help="Calibrate on this deployment's own templates instead of PAIRS_DIR (prints figures only).",
)
@click.option("--county", help="With --from-gallery: only this county's templates (6-digit code).")
@click.option("--target-far", default=0.001, show_default=True, help="False-accept rate to stay within.")
@click.option("--max-frr", default=0.05, show_default=True, help="False-reject rate the review band should reach.")
def calibrate(
    pairs_dir: Path | None, from_gallery: bool, county: str | None, target_far: float, max_frr: float
) -> None:
    """Print FAR/FRR per threshold and recommend thresholds, on labelled pairs or the enrolled gallery.

    PAIRS_DIR holds pairs.csv (image_a, image_b, label same|different) and the images; image_a is
    encoded as an enrolment photo, image_b as a check-in frame. With
    --from-gallery, impostors are different enrolled beneficiaries and genuine comparisons a
    person's enrolment photos among themselves and against their verified check-ins' templates.
    """
    if from_gallery == (pairs_dir is not None):
        raise click.UsageError("give PAIRS_DIR or --from-gallery, not both")
    from server import db
    from server.services import templates
    from worker.face import calibration
    from worker.face.encode import encode_enrolment_face, encode_face, find_face
    from worker.face.image import decode_image

    if from_gallery:
        scored = calibration.score_gallery(templates.calibration_gallery(db.session(), county=county))
        click.echo(f"gallery comparisons: {scored.genuine} same, {scored.impostor} different")
    else:
        limits = _settings().uploads

        def encoder(encode_one):
            def encode(path: Path):
                rgb = decode_image(path.read_bytes(), max_bytes=limits.max_bytes, max_pixels=limits.max_pixels)
                box = find_face(rgb)
                return encode_one(rgb, box) if box is not None else None

            return encode

        # image_a is enrolled as the enrolment worker encodes it, image_b is met as a check-in frame.
        scored = calibration.score_pairs(
            calibration.read_pairs(pairs_dir), encoder(encode_face), enrol=encoder(encode_enrolment_face)
        )
        click.echo(
            f"pairs scored: {len(scored.comparisons)} ({scored.genuine} same, {scored.impostor} different); "
            f"images without a face: {scored.no_face} of {scored.images} (their pairs count as rejects)"
        )
    points = calibration.error_rates(scored)
    click.echo("threshold      FAR      FRR")
    for point in points:
        click.echo(f"{point.threshold:9.2f} {point.far:8.4f} {point.frr:8.4f}")
    try:
        advice = calibration.recommend(points, scored.impostor, target_far=target_far, max_frr=max_frr)
    except calibration.CannotRecommend as exc:
        raise click.ClickException(f"no recommendation: {exc}") from None
    click.echo(
        f"recommended: FIELDCHECK_FACE_ACCEPT={advice.accept:.2f} FIELDCHECK_FACE_REVIEW={advice.review:.2f} "
        f"(at accept FAR {advice.far_at_accept:.4f}, 95% upper bound {advice.far_upper_bound:.4f}, "
        f"FRR {advice.frr_at_accept:.4f}; FRR beyond review {advice.frr_at_review:.4f})"
    )


@cli.group("bench")
def bench() -> None:
    """Benchmarks that print figures for this machine."""


@bench.command("verify")
@click.option("--sessions", default=40, show_default=True)
def bench_verify(sessions: int) -> None:
    """Check-in verification throughput, latency and ratio to the floor, in one process."""
    # The benchmark builds its sessions with the test-suite's generator: a developer's command.
    from bench.verify import run

    run(sessions, echo=click.echo)


@bench.command("sweep")
@click.option("--beneficiaries", "count", default=1_000_000, show_default=True)
def bench_sweep(count: int) -> None:
    """Seed a scratch PostgreSQL database with beneficiaries and time the missed-check-in sweep."""
    from bench.sweep import run
    from server.services import cycles

    run(count, _settings().database_url, cycles.office_zone(_settings()), echo=click.echo)


@bench.command("console")
@click.option("--beneficiaries", "count", default=150_000, show_default=True)
@click.option("--repeats", default=20, show_default=True, help="Requests per page.")
@click.option("--keep", default=None, help="Seed into this database and keep it; reuse it when it exists.")
@click.option("--only", multiple=True, help="Time only the pages whose label contains this (repeatable).")
def bench_console(count: int, repeats: int, keep: str | None, only: tuple[str, ...]) -> None:
    """Seed a scratch PostgreSQL county (people and their cases) and print p50/p95 per console page."""
    from bench.console import run

    run(count, repeats, _settings().database_url, echo=click.echo, keep=keep, only=only)


@bench.command("accuracy")
@click.option("--seeds", default=2, show_default=True, help="Sessions per photo and challenge.")
def bench_accuracy(seeds: int) -> None:
    """Verdict pass rates per kind of synthetic session: genuine, photo spoofs, swaps, ignored prompts."""
    from bench.accuracy import run

    run(seeds, echo=click.echo)


@bench.command("matching")
@click.option(
    "--faces",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="One folder of photos per person (default: ../shared/datasets/asian-faces beside the repository).",
)
def bench_matching(faces: Path | None) -> None:
    """FAR/FRR, EER and FRR at FAR 0.1% for pairs, fused check-ins and the duplicate search."""
    from bench.matching import run

    run(faces, echo=click.echo)


@bench.command("liveness")
@click.option(
    "--faces", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Photos (default: the suite's)"
)
@click.option("--limit", type=int, default=None, help="At most this many photos, people taken in turn")
@click.option("--kind", "kinds", multiple=True, help="Only these session kinds (repeatable)")
@click.option(
    "--videos", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Decide real clips instead"
)
@click.option(
    "--dump", type=click.Path(dir_okay=False, path_type=Path), help="Write each session's verdict and scores (JSONL)"
)
@click.option(
    "--enrolled",
    type=click.IntRange(1, 5),
    default=5,
    show_default=True,
    help="Photos enrolled per person, with one folder per person (the field app asks for 5)",
)
def bench_liveness(
    faces: Path | None,
    limit: int | None,
    kinds: tuple[str, ...],
    videos: Path | None,
    dump: Path | None,
    enrolled: int,
) -> None:
    """Verified / review / rejected per genuine and attack kind over a folder of faces, and time per check-in."""
    from bench.liveness import run, run_videos

    if videos is not None:
        run_videos(videos, faces, echo=click.echo)
        return
    run(faces, limit=limit, kinds=list(kinds) or None, dump=dump, enrolled_photos=enrolled, echo=click.echo)


@bench.command("visits")
@click.option("--visits", "count", default=2000, show_default=True, help="Visits to sync.")
@click.option("--batch", default=50, show_default=True, help="Visits per sync request.")
def bench_visits(count: int, batch: int) -> None:
    """Batch-sync ingest of home visits with fraud signals, on a scratch PostgreSQL database."""
    from bench.visits import run

    run(count, batch, echo=click.echo)


@cli.group("device")
def device_group() -> None:
    """A beneficiary's phone on the command line."""


@device_group.command("checkin", with_appcontext=False)
@click.option("--server", required=True, help="The FieldCheck server, e.g. http://127.0.0.1:8000")
@click.option("--code", required=True, help="A one-time activation code issued for the person")
@click.option("--video", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--agree", is_flag=True, help="The person in the video has agreed to the biometric consent text")
def device_checkin(server: str, code: str, video: Path, agree: bool) -> None:
    """Play a recorded video through activation, challenge and upload, as the phone app does; print the verdict.

    The video's first frame is the tap on "start": frames are sampled at the app's capture times.
    A recording cannot answer the challenge's colours, so once the server checks the light response it
    sends such a check-in to review or rejects it. Exits 0 when verified, 1 otherwise.
    """
    # Only this command needs OpenCV and an HTTP client: the rest of the CLI starts without them.
    import requests

    from server import device

    client = device.DeviceClient(server)
    try:
        text = client.consent_text()
        if not agree:
            click.echo("\n".join(text["text_zh"] + [""] + text["text_en"]))
            click.confirm("Has the person agreed? / 本人是否同意", abort=True)
        outcome = device.check_in(client, code=code, video=video, consent_version=text["version"])
    except (device.DeviceError, requests.RequestException) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{outcome['frames']} frames, {outcome['bytes']} bytes of JPEG")
    click.echo(f"{outcome['status']}: {outcome['message']['zh']} / {outcome['message']['en']}")
    sys.exit(0 if outcome["status"] == "verified" else 1)


@bench.command("startup")
@click.option("--repeats", default=5, show_default=True)
@click.option("--workers", default=4, show_default=True, help="gunicorn workers, as a deployment runs them")
def bench_startup(repeats: int, workers: int) -> None:
    """Import cost, `fieldcheck --help` and gunicorn's first answer, beside a bare Flask app."""
    from bench.startup import run

    run(repeats=repeats, workers=workers)


@bench.command("import")
@click.option("--rows", "count", default=150_000, show_default=True, help="Roster rows to import.")
def bench_import(count: int) -> None:
    """Roster import as a job, beside a bare executemany INSERT, on a scratch PostgreSQL database."""
    from bench.imports import run

    run(count, echo=click.echo)


@bench.command("gallery")
@click.option("--templates", "count", default=1_000_000, show_default=True, help="People (one template each).")
@click.option("--old-at", default=150_000, show_default=True, help="Templates at which to time the old path.")
def bench_gallery(count: int, old_at: int) -> None:
    """The 1:N duplicate search: in-memory gallery vs the database path and a bare GEMV, same run."""
    from bench.gallery import run

    run(count, old_at, _settings().database_url, echo=click.echo)


@bench.command("ingest")
@click.option("--devices", default=200, show_default=True, help="Activated phones submitting.")
@click.option("--workers", type=int, help="gunicorn sync workers for both servers  [default: as `serve` starts]")
@click.option("--rate", default=100.0, show_default=True, help="Open-loop submissions per second for p50/p99.")
@click.option("--connections", default=8, show_default=True, help="Closed-loop connections for saturation.")
@click.option("--seconds", default=10.0, show_default=True, help="Length of each load pattern.")
@click.option("--broker", default="redis://127.0.0.1:6379/15", show_default=True, help="Redis the service sends to.")
@click.option("--frames", default=5, show_default=True, help="Frames per submission (the phone app sends about 21).")
def bench_ingest(
    devices: int, workers: int | None, rate: float, connections: int, seconds: float, broker: str, frames: int
) -> None:
    """Check-in submissions/s and latency of `fieldcheck serve` beside a bare multipart endpoint, same run."""
    from bench.ingest import run
    from server.serving import default_workers

    run(
        devices=devices,
        workers=workers or default_workers(),
        rate=rate,
        connections=connections,
        seconds=seconds,
        broker_url=broker,
        database_url=_settings().database_url,
        frames=frames,
        echo=click.echo,
    )


@bench.command("payments")
@click.option("--people", "count", default=150_000, show_default=True)
def bench_payments(count: int) -> None:
    """Payment run build, CSV and XLSX exports and the coverage report, each beside its floor (scratch PostgreSQL)."""
    from bench.county import run_payments

    run_payments(count, _settings().database_url, echo=click.echo)


@bench.command("lists")
@click.option("--people", "count", default=150_000, show_default=True)
@click.option("--repeats", default=20, show_default=True, help="Requests per page.")
@click.option("--keep", default=None, help="Seed this database once and leave it; later runs reuse it.")
def bench_lists(count: int, repeats: int, keep: str | None) -> None:
    """p50/p95 of page 1 and of page 1,000 by number and by cursor of every paged list, beside the bare query
    (scratch PostgreSQL)."""
    from bench.county import run_lists

    run_lists(count, repeats, _settings().database_url, echo=click.echo, keep=keep)


@cli.command("seed-demo")
def seed_demo_command() -> None:
    """Add a demo county with staff and beneficiaries (once); print the demo logins."""
    from server import db
    from server.context import Ctx
    from server.demo import seed_demo

    ctx = Ctx.current()
    with db.unit_of_work(ctx.session):
        lines = seed_demo(ctx)
    for line in lines:
        click.echo(line)


@cli.command("demo")
@click.option("--port", default=8000, show_default=True)
def demo(port: int) -> None:
    """Migrate, seed the demo data and serve API plus worker on the embedded default."""
    from server import db, migrate
    from server.context import Ctx
    from server.demo import demo_phone, seed_demo
    from server.services import cycles, sweep

    migrate.upgrade(db.engine())
    ctx = Ctx.current()
    with db.unit_of_work(ctx.session):
        lines = seed_demo(ctx)
    for line in lines:
        click.echo(line)
    # The beat runs the sweep hourly; run it now so the demo's ended cycle has its cases at once.
    zone = cycles.office_zone(ctx.settings)
    with db.unit_of_work(ctx.session):
        result = sweep.sweep(ctx, today=cycles.local_today(zone), zone=zone, actor=_cli_actor())
    click.echo(f"sweep: {result.total} missed_checkin cases opened")
    with db.unit_of_work(ctx.session):
        lines = demo_phone(ctx, f"http://127.0.0.1:{port}")
    for line in lines:
        click.echo(line)
    run_service(host="127.0.0.1", port=port, workers=2, with_worker=True)


if __name__ == "__main__":
    cli()
