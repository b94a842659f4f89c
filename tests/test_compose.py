"""docker-compose.yml cannot be run here (no container engine), so check that it is well formed and
that every command it runs exists in this project."""

import importlib
from pathlib import Path

import yaml
from click.testing import CliRunner

from server.cli import cli

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_the_deployment_has_every_part():
    assert {"postgres", "redis", "minio", "create-bucket", "migrate", "api", "worker", "beat"} <= set(SERVICES)
    for name in ("postgres", "redis", "minio", "api"):
        assert "healthcheck" in SERVICES[name], name
    assert {"postgres", "redis", "minio", "instance"} <= set(COMPOSE["volumes"])
    assert (ROOT / "Dockerfile").exists()


def test_fieldcheck_commands_exist():
    runner = CliRunner()
    for name, service in SERVICES.items():
        command = service.get("command", [])
        if command[:1] == ["fieldcheck"]:
            result = runner.invoke(cli, [*command[1:], "--help"])
            assert result.exit_code == 0, f"{name}: {command} -> {result.output}"


def test_gunicorn_target_is_the_app_factory():
    command = SERVICES["api"]["command"]
    assert command[0] == "gunicorn"
    module, _, call = command[-1].partition(":")
    assert (module, call) == ("server.app", "create_app()")
    assert callable(importlib.import_module(module).create_app)


def test_the_app_gets_every_setting_it_needs_for_production():
    env = SERVICES["api"]["environment"]
    for key in ("DATABASE_URL", "BROKER_URL", "STORAGE_URL", "SECRET_KEY", "DATA_KEY"):
        assert f"FIELDCHECK_{key}" in env
    assert env["FIELDCHECK_STORAGE_URL"].startswith("s3://")
    assert env["FIELDCHECK_BROKER_URL"].startswith("redis://")
