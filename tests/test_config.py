"""Configuration comes from the environment, with safe defaults and clear refusals."""
import pytest

from facesite import config, create_app


def test_region_picks_the_documented_host(monkeypatch):
    monkeypatch.setenv("ADVANCE_ACCESS_KEY", "a")
    monkeypatch.setenv("ADVANCE_SECRET_KEY", "s")
    for region, host in [("sg", "https://sg-api.advance.ai"), ("mex", "https://mex-api.advance.ai"),
                         ("id", "https://api.advance.ai"), ("PH", "https://ph-api.advance.ai")]:
        monkeypatch.setenv("ADVANCE_REGION", region)
        assert config.vendor_base_url() == host


def test_a_base_url_wins_over_the_region(monkeypatch):
    monkeypatch.setenv("ADVANCE_ACCESS_TOKEN", "t")
    monkeypatch.setenv("ADVANCE_REGION", "sg")
    monkeypatch.setenv("ADVANCE_BASE_URL", "http://127.0.0.1:9000/")
    assert config.vendor_base_url() == "http://127.0.0.1:9000"


def test_an_unknown_region_stops_the_portal_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("ADVANCE_ACCESS_TOKEN", "t")
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv("ADVANCE_REGION", "nga")  # token API only: no Face Search there
    with pytest.raises(RuntimeError, match="ADVANCE_REGION must be one of"):
        create_app()


def test_no_credentials_means_sandbox(monkeypatch):
    assert config.needs_embedded_sandbox() and not config.has_vendor_credentials()
    monkeypatch.setenv("ADVANCE_ACCESS_KEY", "only-half")
    assert not config.has_vendor_credentials()


def test_the_token_period_is_kept_within_the_vendors_range(monkeypatch, sandbox):
    monkeypatch.setenv("ADVANCE_TOKEN_PERIOD", "5")
    assert create_app({"ADVANCE_BASE_URL": sandbox.url}).config["ADVANCE_TOKEN_PERIOD"] == 60
    monkeypatch.setenv("ADVANCE_TOKEN_PERIOD", "one hour")
    with pytest.raises(RuntimeError, match="ADVANCE_TOKEN_PERIOD must be a whole number"):
        create_app({"ADVANCE_BASE_URL": sandbox.url})


def test_the_secret_key_is_shared_by_every_worker_of_one_instance(sandbox):
    first = create_app({"ADVANCE_BASE_URL": sandbox.url}).config["SECRET_KEY"]
    second = create_app({"ADVANCE_BASE_URL": sandbox.url}).config["SECRET_KEY"]
    assert first == second and len(first) >= 32


def test_the_real_vendor_needs_a_secret_key(monkeypatch):
    monkeypatch.setenv("ADVANCE_ACCESS_TOKEN", "t")
    monkeypatch.setenv("ADVANCE_REGION", "sg")
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        create_app()


def test_a_stand_in_vendor_on_this_machine_is_development(monkeypatch, tmp_path):
    monkeypatch.setenv("ADVANCE_ACCESS_KEY", "k")
    monkeypatch.setenv("ADVANCE_SECRET_KEY", "s")
    monkeypatch.setenv("ADVANCE_BASE_URL", "http://127.0.0.1:9000")
    assert not config.is_production()
    settings = config.from_environment(str(tmp_path))  # no SECRET_KEY needed; plain-http cookies
    assert not settings["SANDBOX_MODE"] and not settings["SESSION_COOKIE_SECURE"]
    monkeypatch.setenv("ADVANCE_BASE_URL", "https://vendor.example")
    assert config.is_production()


def test_heroku_style_postgres_urls_are_accepted(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/portal")
    assert config.database_url("/tmp") == "postgresql+psycopg2://u:p@db.example:5432/portal"
    monkeypatch.delenv("DATABASE_URL")
    assert config.database_url("/srv/i") == "sqlite:////srv/i/facesite.sqlite3"


def test_header_sign_in_without_a_proxy_secret_is_refused(monkeypatch):
    monkeypatch.setenv("AUTH_MODE", "header")
    with pytest.raises(RuntimeError, match="AUTH_PROXY_SECRET"):
        create_app()
