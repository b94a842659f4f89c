"""Settings from the environment: safe embedded defaults, refusals where production needs secrets."""

import base64
import os
import stat

import pytest

from server.config import ConfigError, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("FIELDCHECK_"):
            monkeypatch.delenv(name)


def test_embedded_default_needs_nothing_and_keeps_random_keys_private(tmp_path):
    settings = Settings.from_env(tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'fieldcheck.db'}"
    assert settings.storage_url == f"file://{tmp_path / 'objects'}"
    assert settings.broker_url.startswith("sqla+sqlite:///")
    assert len(settings.data_key) == 32
    for name in ("secret.key", "data.key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    # The same instance keeps its keys: encrypted data stays readable across restarts.
    assert Settings.from_env(tmp_path).data_key == settings.data_key


def test_a_server_database_requires_explicit_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDCHECK_DATABASE_URL", "postgresql+psycopg://db/fieldcheck")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env(tmp_path)


def test_a_short_data_key_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDCHECK_DATA_KEY", base64.b64encode(b"short").decode())
    with pytest.raises(ConfigError, match="32 bytes"):
        Settings.from_env(tmp_path)


def test_thresholds_and_limits_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDCHECK_FACE_ACCEPT", "0.4")
    monkeypatch.setenv("FIELDCHECK_UPLOAD_MAX_BYTES", "1000000")
    monkeypatch.setenv("FIELDCHECK_QUALITY_MIN_FACE_PX", "120")
    settings = Settings.from_env(tmp_path)
    assert (settings.face.accept, settings.face.review) == (0.4, 0.55)
    assert settings.uploads.max_bytes == 1_000_000
    assert settings.quality.min_face_px == 120


def test_a_malformed_number_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDCHECK_FACE_REVIEW", "strict")
    with pytest.raises(ConfigError, match="FIELDCHECK_FACE_REVIEW"):
        Settings.from_env(tmp_path)


@pytest.mark.parametrize(
    ("variables", "complaint"),
    [
        ({"FACE_ACCEPT": "0.6"}, "FACE_ACCEPT <= FIELDCHECK_FACE_REVIEW"),
        ({"FACE_ACCEPT_WITHOUT_COHORT": "0.5"}, "FACE_ACCEPT_WITHOUT_COHORT <= FIELDCHECK_FACE_ACCEPT"),
        ({"FACE_NORM_ACCEPT": "-1.0"}, "FACE_NORM_ACCEPT must be below"),
        ({"FACE_COHORT_MIN": "1"}, "FACE_COHORT_MIN must be at least 3"),
    ],
)
def test_face_thresholds_keep_a_review_band(tmp_path, monkeypatch, variables, complaint):
    for name, value in variables.items():
        monkeypatch.setenv(f"FIELDCHECK_{name}", value)
    with pytest.raises(ConfigError, match=complaint):
        Settings.from_env(tmp_path)


def test_visit_signal_thresholds_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDCHECK_VISIT_HOME_RADIUS_M", "500")
    monkeypatch.setenv("FIELDCHECK_VISIT_BATCH_LIMIT", "20")
    visits = Settings.from_env(tmp_path).visits
    assert (visits.home_radius_m, visits.batch_limit, visits.max_speed_kmh) == (500, 20, 120)


@pytest.mark.parametrize(
    ("variables", "complaint"),
    [
        ({"REMINDER_SENDER": "sms"}, "REMINDER_SENDER must be one of log, webhook"),
        ({"REMINDER_SENDER": "webhook"}, "REMINDER_WEBHOOK_URL must be set"),
        ({"REMINDER_DAYS_BEFORE": "14,seven"}, "REMINDER_DAYS_BEFORE must be comma-separated whole days"),
    ],
)
def test_reminder_settings_are_checked_at_start(tmp_path, monkeypatch, variables, complaint):
    for name, value in variables.items():
        monkeypatch.setenv(f"FIELDCHECK_{name}", value)
    with pytest.raises(ConfigError, match=complaint):
        Settings.from_env(tmp_path)


def test_cycle_and_reminder_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDCHECK_CYCLE_GRACE_DAYS", "10")
    monkeypatch.setenv("FIELDCHECK_REMINDER_SENDER", "webhook")
    monkeypatch.setenv("FIELDCHECK_REMINDER_WEBHOOK_URL", "https://sms.example.gov.cn/send")
    monkeypatch.setenv("FIELDCHECK_REMINDER_DAYS_BEFORE", "3, 10,1")
    settings = Settings.from_env(tmp_path)
    assert settings.cycles.grace_days == 10
    assert settings.reminders.webhook_url == "https://sms.example.gov.cn/send"
    assert settings.reminders.steps == (10, 3, 1)
