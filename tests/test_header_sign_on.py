"""Header sign-on (AUTH_MODE=header) cannot be side-stepped (issue 12 case 3)."""
import pytest

from facesite.extensions import db
from facesite.models import User
from tests.support import PASSWORD, EnrolPage, make_app, portal_settings, sign_in, sign_out

SECRET = "proxy-shared-secret"


@pytest.fixture
def header_app(sandbox):
    return make_app(sandbox.url, {"AUTH_MODE": "header", "AUTH_PROXY_SECRET": SECRET, "AUTH_DEFAULT_ROLE": "viewer"})


def proxied(email, secret=SECRET, **more):
    return {"X-Forwarded-Email": email, "X-Proxy-Secret": secret, **more}


def test_password_sign_in_and_the_setup_link_are_off(header_app):
    client = header_app.test_client()
    page = client.get("/auth/login")
    assert page.status_code == 401 and "company's sign-on" in page.get_data(as_text=True)
    answer = client.post("/auth/login", data={"username": "ada", "password": PASSWORD})
    assert answer.status_code in (400, 401) and client.get("/admin/users").status_code == 302
    assert client.get("/auth/setup/any-token").status_code == 404


def test_break_glass_lets_local_passwords_in(sandbox):
    app = make_app(sandbox.url, {"AUTH_MODE": "header", "AUTH_PROXY_SECRET": SECRET, "AUTH_BREAK_GLASS": "1",
                                 "AUTH_DEFAULT_ROLE": "viewer"})
    client = sign_in(app.test_client(), "admin")
    assert client.get("/admin/users").status_code == 200
    # Through the proxy, the proxy's identity wins over the password session in the same browser.
    assert client.get("/admin/users", headers=proxied("someone@example.com")).status_code == 403


def test_a_proxy_identity_never_becomes_a_local_account(header_app):
    client = header_app.test_client()
    for email in ("Admin ", "ADA", " ada", "ada\t"):
        answer = client.get("/admin/users", headers=proxied(email))
        assert answer.status_code != 200, email
    with header_app.app_context():
        assert db.session.scalar(db.select(User).filter_by(username="ada")).source == "local"


def test_a_non_ascii_secret_is_a_refusal_not_an_error(header_app):
    client = header_app.test_client()
    for path in ("/auth/login", "/enrol/", "/healthz"):
        answer = client.get(path, headers=proxied("x@example.com", secret="sécrét-ü"))
        assert answer.status_code < 500, path
    answer = client.get("/search/", headers={"X-Forwarded-Email": "x@example.com",
                                             "X-Proxy-Secret": SECRET.encode().decode("latin-1") + "\u00e9"})
    assert answer.status_code == 302


def test_roles_come_from_the_proxy_groups_and_others_stay_out(sandbox):
    app = make_app(sandbox.url, {"AUTH_MODE": "header", "AUTH_PROXY_SECRET": SECRET,
                                 "AUTH_GROUPS_HEADER": "X-Forwarded-Groups", "AUTH_OPERATOR_GROUPS": "face-operators",
                                 "AUTH_ADMIN_GROUPS": "face-admins"})
    client = app.test_client()
    mia = proxied("mia@example.com", **{"X-Forwarded-Groups": "staff, face-operators"})
    assert client.get("/enrol/", headers=mia).status_code == 200
    assert client.get("/admin/users", headers=mia).status_code == 403
    promoted = proxied("mia@example.com", **{"X-Forwarded-Groups": "face-admins"})
    assert client.get("/admin/users", headers=promoted).status_code == 200  # re-read on every request
    outsider = proxied("eve@example.com", **{"X-Forwarded-Groups": "staff"})
    assert client.get("/search/", headers=outsider).status_code == 302  # in no mapped group: not let in
    with app.app_context():
        assert db.session.scalar(db.select(User).filter_by(username="eve@example.com")) is None


def test_a_safe_next_never_carries_a_line_break(app, anonymous):
    page = anonymous.get("/auth/login").get_data(as_text=True)
    for target in ("/enrol/\r\nSet-Cookie: x=1", "/enrol/%0d%0aX: y", "/\x00", "/enrol/\n", "/enrol/\u2028x", "/é"):
        answer = anonymous.post("/auth/login", query_string={"next": target}, data={
            "csrf_token": EnrolPage.hidden(page, "csrf_token"), "username": "otto", "password": PASSWORD})
        assert answer.status_code == 303 and "\n" not in answer.location and "\r" not in answer.location
        sign_out(anonymous)
        page = anonymous.get("/auth/login").get_data(as_text=True)


@pytest.mark.parametrize("target", ["/faces/../other", "/faces/%2e%2e/other/", "/faces/./../x", "/faces/a/../../x",
                                    "/faces/%2E%2E", "/faces/.%2e/x"])
def test_a_next_address_with_dot_segments_never_leaves_the_mount_path(app, anonymous, target):
    """Issue 24, finding 11: under /faces, "/faces/../other" passed a string check, then the browser left."""
    mounted = "http://localhost/faces/"  # the portal under /faces (SCRIPT_NAME), as a proxy mounts it
    page = anonymous.get("/auth/login", base_url=mounted).get_data(as_text=True)
    answer = anonymous.post("/auth/login", query_string={"next": target}, base_url=mounted,
                            data={"csrf_token": EnrolPage.hidden(page, "csrf_token"), "username": "otto",
                                  "password": PASSWORD})
    assert answer.status_code == 303 and answer.location in ("/faces/", "/faces/enrol/", "/faces/search/")


def test_header_sign_on_lets_nobody_in_until_roles_are_configured(monkeypatch):
    from facesite.app import create_app

    with pytest.raises(RuntimeError, match="AUTH_DEFAULT_ROLE"):
        create_app(portal_settings({"AUTH_MODE": "header", "AUTH_PROXY_SECRET": SECRET}))


def test_proxy_names_are_utf8_and_sent_once(header_app):
    client = header_app.test_client()
    umlaut = "jörg@example.com".encode().decode("latin-1")  # how WSGI hands over a UTF-8 header
    assert client.get("/search/", headers=proxied(umlaut)).status_code == 200
    assert client.get("/search/", headers=proxied("JÖRG@example.com".encode().decode("latin-1"))).status_code == 200
    with header_app.app_context():
        names = set(db.session.scalars(db.select(User.username).where(User.source == "header")))
    assert names == {"jörg@example.com"}
    twice = [("X-Forwarded-Email", "mallory@example.com"), ("X-Forwarded-Email", "ada"), ("X-Proxy-Secret", SECRET)]
    assert client.get("/search/", headers=twice).status_code == 302  # nobody: to the sign-in page


def test_a_removed_proxy_account_does_not_come_back(header_app):
    client = header_app.test_client()
    assert client.get("/search/", headers=proxied("gone@example.com")).status_code == 200
    with header_app.app_context():
        from facesite import security_events

        db.session.execute(db.delete(User).where(User.username == "gone@example.com"))
        db.session.commit()
        security_events.record("user_removed", actor="ada", subject="gone@example.com")
    assert client.get("/search/", headers=proxied("gone@example.com")).status_code == 302
