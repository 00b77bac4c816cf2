"""Configuration from the environment, with the contract's defaults."""

import pytest

from mobilise import create_app
from mobilise.config import normalise_database_url, parse_bool


def test_embedded_defaults(monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "SECRET_KEY", "MAIL_SERVER", "MAIL_PORT"):
        monkeypatch.delenv(name, raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/mobilise.sqlite")
    assert app.config["REDIS_URL"] == "redis://localhost:6379/0"
    assert app.config["PUBLIC_BASE_URL"] == "http://localhost:5000"
    assert len(app.config["SECRET_KEY"]) >= 40
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"]  # generated once, then kept


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db:5432/mobilise")
    monkeypatch.setenv("MAIL_USE_TLS", "yes")
    monkeypatch.setenv("MAIL_USE_SSL", "0")
    monkeypatch.setenv("MAIL_PORT", "2525")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://act.example.org/")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db:5432/mobilise"
    assert app.config["MAIL_USE_TLS"] is True and app.config["MAIL_USE_SSL"] is False
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["PUBLIC_BASE_URL"] == "https://act.example.org"


def test_production_requires_a_secret_key(monkeypatch):
    monkeypatch.setenv("MOBILISE_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY is required"):
        create_app()


@pytest.mark.parametrize(
    "value, expected", [("true", True), ("1", True), ("YES", True), ("false", False), ("0", False), ("no", False)]
)
def test_booleans(value, expected):
    assert parse_bool(value, "X") is expected


def test_a_bad_boolean_is_a_clear_error():
    with pytest.raises(ValueError, match="MAIL_USE_TLS must be"):
        parse_bool("maybe", "MAIL_USE_TLS")


def test_postgres_urls_use_psycopg_3():
    assert normalise_database_url("postgres://h/db") == "postgresql+psycopg://h/db"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"


def test_relay_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("MAIL_PER_SECOND", "40")
    monkeypatch.setenv("MAIL_PER_HOUR", "90000")
    monkeypatch.setenv("SEND_DEFER_BACKOFF", "30, 120")
    monkeypatch.setenv(
        "MAIL_RELAYS", '[{"name": "eu", "server": "smtp.eu.example", "offices": ["es"], "per_second": 5}]'
    )
    app = create_app()
    assert (app.config["MAIL_PER_SECOND"], app.config["MAIL_PER_HOUR"]) == (40, 90000)
    assert app.config["SEND_DEFER_BACKOFF"] == (30, 120)
    with app.app_context():
        from mobilise.sending.relays import relay_for

        assert relay_for("ES").name == "eu" and relay_for("ES").per_second == 5
        assert relay_for("GB").name == "default" and relay_for("GB").per_hour == 90000


@pytest.mark.parametrize(
    "name, value, says",
    [
        ("MAIL_RELAYS", "{not json", "MAIL_RELAYS must be a JSON list"),
        ("MAIL_RELAYS", '[{"server": "x"}]', "MAIL_RELAYS must be a JSON list of"),
        ("MAIL_PER_SECOND", "fast", "MAIL_PER_SECOND must be a positive number"),
        ("SEND_RELAY_BACKOFF", "10,soon", "SEND_RELAY_BACKOFF must be delays in seconds"),
    ],
)
def test_bad_relay_settings_are_clear_errors(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=says):
        create_app()
