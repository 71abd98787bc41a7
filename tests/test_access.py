"""Only staff get in; each role gets only what it is for."""
import time

import pytest

from facesite.extensions import db
from facesite.models import User
from tests.support import PASSWORD, EnrolPage, face, make_app, portal_settings, portal_without_accounts, sign_in

# /metrics: the test client connects from loopback, where a local scraper reads it (tests/test_metrics.py:
# from elsewhere only with METRICS_TOKEN).
PUBLIC = {"/auth/login", "/healthz", "/static/style.css", "/metrics"}


def concrete_urls(app):
    """Every GET route of the portal, with made-up values for its parameters."""
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods:
            yield rule.rule.replace("<path:filename>", "style.css").replace("<int:user_id>", "1") \
                .replace("<int:job_id>", "1").replace("<int:row_id>", "1") \
                .replace("<submission_id>", "x" * 32).replace("<picture_id>", "x" * 32).replace("<token>", "x" * 32)


def test_without_a_session_only_login_static_healthz_the_icon_and_local_metrics_answer(app, anonymous):
    urls = set(concrete_urls(app))
    assert {"/enrol/", "/admin/users", "/admin/audit", "/admin/audit.csv", "/auth/password", "/batch/",
            "/batch/1/results.csv"} <= urls
    for url in urls:
        response = anonymous.get(url)
        if url in PUBLIC:
            assert response.status_code == 200, url
        elif url == "/favicon.ico":
            assert response.status_code == 301 and response.headers["Location"] == "/static/favicon.svg", url
        elif url.startswith(("/auth/setup/", "/auth/reset/", "/auth/oidc/")):
            # An unknown setup or reset link shows nothing; the company sign-in is not on in this portal.
            assert response.status_code == 404, url
        else:
            assert response.status_code == 302 and "/auth/login" in response.headers["Location"], url


def test_every_post_without_a_csrf_token_is_refused(app, client):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods:
            url = rule.rule.replace("<int:user_id>", "1").replace("<token>", "x" * 32).replace("<int:job_id>", "1") \
                .replace("<int:row_id>", "1").replace("<int:entry_id>", "1")
            response = client.post(url, data={"faceSetId": "demo", "role": "admin", "username": "x"})
            assert response.status_code == 400 and "This form has expired" in response.get_data(as_text=True), url


def test_roles_are_checked_on_the_server(app):
    viewer, operator, admin = (sign_in(app.test_client(), role) for role in ("viewer", "operator", "admin"))
    assert viewer.get("/enrol/").status_code == 403
    assert EnrolPage(viewer).send(face("obama.jpg"), html=EnrolPage(operator).open()).status_code in (400, 403)
    assert operator.get("/enrol/").status_code == 200
    for url in ("/admin/users", "/admin/audit", "/admin/audit.csv"):
        assert operator.get(url).status_code == 403 and viewer.get(url).status_code == 403
        assert admin.get(url).status_code == 200
    assert "Enrol a face" not in viewer.get("/auth/password").get_data(as_text=True)


def test_a_forged_user_header_without_the_proxy_secret_gets_nothing(sandbox):
    app = make_app(sandbox.url, {"AUTH_MODE": "header", "AUTH_PROXY_SECRET": "proxy-shared-secret",
                                 "AUTH_DEFAULT_ROLE": "operator"})
    client = app.test_client()
    forged = client.get("/enrol/", headers={"X-Forwarded-Email": "ada"})  # ada is an admin
    assert forged.status_code == 302 and "/auth/login" in forged.headers["Location"]
    wrong = client.get("/admin/users", headers={"X-Forwarded-Email": "ada", "X-Proxy-Secret": "guess"})
    assert wrong.status_code == 302
    proxied = {"X-Forwarded-Email": "New.Person@example.com", "X-Proxy-Secret": "proxy-shared-secret"}
    assert client.get("/enrol/", headers=proxied).status_code == 200
    assert client.get("/admin/users", headers=proxied).status_code == 403
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="new.person@example.com"))
        assert (user.role, user.source, user.password_hash) == ("operator", "header", None)


def test_repeated_failures_lock_the_account_until_an_admin_unlocks_it(app, anonymous):
    def attempt(password):
        html = anonymous.get("/auth/login").get_data(as_text=True)
        return anonymous.post("/auth/login", data={"csrf_token": EnrolPage.hidden(html, "csrf_token"),
                                                   "username": "otto", "password": password})

    for _ in range(5):
        assert "Wrong username or password." in attempt("wrong").get_data(as_text=True)
    locked = attempt(PASSWORD)
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.get_data(as_text=True)
    admin = sign_in(app.test_client(), "admin")
    users = admin.get("/admin/users").get_data(as_text=True)
    with app.app_context():
        otto = db.session.scalar(db.select(User).filter_by(username="otto"))
    admin.post(f"/admin/users/{otto.id}/unlock", data={"csrf_token": EnrolPage.hidden(users, "csrf_token")})
    assert attempt(PASSWORD).status_code == 303


def test_sessions_expire(sandbox):
    app = make_app(sandbox.url, PERMANENT_SESSION_LIFETIME=1)
    client = sign_in(app.test_client())
    assert client.get("/enrol/").status_code == 200
    time.sleep(2.1)
    assert client.get("/enrol/").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_sign_in_never_redirects_off_site(app, anonymous, target):
    html = anonymous.get("/auth/login").get_data(as_text=True)
    response = anonymous.post("/auth/login", query_string={"next": target}, data={
        "csrf_token": EnrolPage.hidden(html, "csrf_token"), "username": "otto", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_sign_in_returns_to_the_page_asked_for(app, anonymous):
    assert anonymous.get("/admin/audit?user=otto").headers["Location"].endswith("next=/admin/audit?user%3Dotto")
    html = anonymous.get("/auth/login").get_data(as_text=True)
    response = anonymous.post("/auth/login", query_string={"next": "/enrol/?faceSetId=demo"}, data={
        "csrf_token": EnrolPage.hidden(html, "csrf_token"), "username": "otto", "password": PASSWORD})
    assert response.headers["Location"] == "/enrol/?faceSetId=demo"


def test_staff_change_their_password(app, client):
    html = client.get("/auth/password").get_data(as_text=True)
    done = client.post("/auth/password", data={"csrf_token": EnrolPage.hidden(html, "csrf_token"),
                                               "current": PASSWORD, "password": "a brand new passphrase",
                                               "confirm": "a brand new passphrase"})
    assert done.status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(User).filter_by(username="otto")).check_password("a brand new passphrase")


def test_create_user_command_takes_the_password_from_the_environment(app, monkeypatch):
    monkeypatch.setenv("FACESITE_PASSWORD", "from the environment")
    result = app.test_cli_runner().invoke(args=["create-user", "Carla", "--role", "admin"])
    assert result.exit_code == 0 and "created carla (admin)" in result.output
    again = app.test_cli_runner().invoke(args=["create-user", "carla"])
    assert again.exit_code != 0 and "exists already" in again.output
    with app.app_context():
        assert db.session.scalar(db.select(User).filter_by(username="carla")).check_password("from the environment")


def test_create_user_command_asks_for_the_password(app):
    result = app.test_cli_runner().invoke(args=["create-user", "dora", "--role", "viewer"],
                                          input="typed at the prompt\ntyped at the prompt\n")
    assert result.exit_code == 0, result.output


def test_the_first_administrator_comes_from_a_one_time_link(sandbox, caplog):
    from facesite.app import create_app

    app, path = portal_without_accounts(sandbox.url, caplog)
    client = app.test_client()
    html = client.get(path).get_data(as_text=True)
    created = client.post(path, data={"csrf_token": EnrolPage.hidden(html, "csrf_token"), "username": "boss",
                                      "password": "long enough pass", "confirm": "long enough pass"})
    assert created.status_code == 303
    # Signed in as the new administrator, who sets a second factor up before anything else (MFA_REQUIRED_ROLES).
    assert client.get("/admin/users").headers["Location"].endswith("/auth/security/second-factor")
    assert app.test_client().get(path).status_code == 404  # used up
    caplog.clear()
    create_app(portal_settings(ADVANCE_BASE_URL=sandbox.url))
    assert not any("/auth/setup/" in r.getMessage() for r in caplog.records)  # users exist: no new link
