"""Configuration comes from the environment, with safe defaults and clear refusals."""
import pytest

from facesite import config
from facesite.app import create_app
from tests.support import UNLISTED_ENV, documented_env, portal_settings


def test_region_picks_the_documented_host():
    keys = {"ADVANCE_ACCESS_KEY": "a", "ADVANCE_SECRET_KEY": "s"}
    for region, host in [("sg", "https://sg-api.advance.ai"), ("mex", "https://mex-api.advance.ai"),
                         ("id", "https://api.advance.ai"), ("PH", "https://ph-api.advance.ai")]:
        assert config.vendor_base_url({**keys, "ADVANCE_REGION": region}) == host


def test_a_base_url_wins_over_the_region():
    env = {"ADVANCE_ACCESS_TOKEN": "t", "ADVANCE_REGION": "sg", "ADVANCE_BASE_URL": "http://127.0.0.1:9000/"}
    assert config.vendor_base_url(env) == "http://127.0.0.1:9000"


def test_an_unknown_region_stops_the_portal_with_a_clear_message():
    env = {"ADVANCE_ACCESS_TOKEN": "t", "SECRET_KEY": "s" * 32,
           "ADVANCE_REGION": "nga"}  # token API only: no Face Search there
    with pytest.raises(RuntimeError, match="ADVANCE_REGION must be one of"):
        create_app(portal_settings(env))


def test_no_credentials_means_sandbox():
    assert config.Settings.from_env({}).advance_base_url is None and not config.has_vendor_credentials({})
    assert not config.has_vendor_credentials({"ADVANCE_ACCESS_KEY": "only-half"})


def test_the_token_period_is_kept_within_the_vendors_range(sandbox):
    settings = portal_settings({"ADVANCE_TOKEN_PERIOD": "5"}, ADVANCE_BASE_URL=sandbox.url)
    assert create_app(settings).config["ADVANCE_TOKEN_PERIOD"] == 60
    with pytest.raises(RuntimeError, match="ADVANCE_TOKEN_PERIOD must be a whole number"):
        create_app(portal_settings({"ADVANCE_TOKEN_PERIOD": "one hour"}, ADVANCE_BASE_URL=sandbox.url))


def test_the_secret_key_is_shared_by_every_worker_of_one_instance(sandbox):
    first = create_app(portal_settings(ADVANCE_BASE_URL=sandbox.url)).config["SECRET_KEY"]
    second = create_app(portal_settings(ADVANCE_BASE_URL=sandbox.url)).config["SECRET_KEY"]
    assert first == second and len(first) >= 32


def test_the_real_vendor_needs_a_secret_key():
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        create_app(portal_settings({"ADVANCE_ACCESS_TOKEN": "t", "ADVANCE_REGION": "sg"}))


def test_a_stand_in_vendor_on_this_machine_is_development():
    env = {"ADVANCE_ACCESS_KEY": "k", "ADVANCE_SECRET_KEY": "s", "ADVANCE_BASE_URL": "http://127.0.0.1:9000"}
    assert not config.is_production(env)
    settings = config.Settings.from_env(env)  # no SECRET_KEY needed; plain-http cookies
    assert not settings.sandbox_mode and not settings.session_cookie_secure
    assert config.is_production({**env, "ADVANCE_BASE_URL": "https://vendor.example"})


def test_heroku_style_postgres_urls_are_accepted(tmp_path):
    settings = config.Settings.from_env({"DATABASE_URL": "postgres://u:p@db.example:5432/portal"})
    assert settings.in_instance_folder(str(tmp_path)).sqlalchemy_database_uri == \
        "postgresql+psycopg2://u:p@db.example:5432/portal"
    settings = config.Settings.from_env({"SECRET_KEY": "s"}).in_instance_folder("/srv/i")
    assert settings.sqlalchemy_database_uri == "sqlite:////srv/i/facesite.sqlite3"


def test_header_sign_in_without_a_proxy_secret_is_refused():
    with pytest.raises(RuntimeError, match="AUTH_PROXY_SECRET"):
        create_app(portal_settings({"AUTH_MODE": "header"}))


def test_every_setting_read_is_listed_in_the_env_example():
    read = set()

    class Recording(dict):
        def get(self, name, default=None):
            read.add(name)
            return super().get(name, default)

        def __getitem__(self, name):
            read.add(name)
            return super().__getitem__(name)

    for env in ({}, {"ADVANCE_ACCESS_KEY": "k", "ADVANCE_SECRET_KEY": "s", "SECRET_KEY": "x" * 32},
                {"AUTH_MODE": "header", "AUTH_PROXY_SECRET": "p", "AUTH_GROUPS_HEADER": "g"}):
        config.Settings.from_env(Recording(env))
        config.ServingSettings.from_env(Recording(env))
    assert read - documented_env() <= set(UNLISTED_ENV)


def test_with_sqlite_every_request_thread_may_hold_a_connection():
    """Issue 14: with 30 connections for 50 threads per process, a rush of enrolments waited 30 s for a
    connection and answered 500. A database server keeps its smaller default (it counts connections)."""
    options = lambda env: config.Settings.from_env(env).sqlalchemy_engine_options  # noqa: E731
    assert options({})["pool_size"] == 50 and options({"GUNICORN_THREADS": "8"})["pool_size"] == 8
    assert options({"DATABASE_URL": "postgres://db.example/portal"})["pool_size"] == 10
    assert options({"DB_POOL_SIZE": "3"})["pool_size"] == 3


@pytest.mark.parametrize("base_url", ["https://vendor.example", "http://127.0.0.1:9000"])
def test_a_short_secret_key_is_refused_with_vendor_credentials(base_url):
    """Issue 24 item 9: SECRET_KEY keys the ID-number hashes and seals; five characters are guessed at once."""
    env = {"ADVANCE_ACCESS_KEY": "k", "ADVANCE_SECRET_KEY": "s", "ADVANCE_BASE_URL": base_url}
    with pytest.raises(RuntimeError, match="SECRET_KEY must be at least 32 characters"):
        create_app(portal_settings({**env, "SECRET_KEY": "short"}))
    assert config.Settings.from_env({**env, "SECRET_KEY": "k" * 32}).secret_key == "k" * 32
    assert config.Settings.from_env({"SECRET_KEY": "short"}).sandbox_mode  # the sandbox alone may take it
