"""Headers, cookies and limits that make the portal safe to put on the internet."""
import re
import uuid

from tests.support import PASSWORD, EnrolPage, face, make_app, sign_in


def test_default_headers_forbid_framing_and_inline_script(app, client):
    response = client.get("/enrol/")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_hsts_is_sent_when_served_over_https_behind_the_router(client):
    response = client.get("/enrol/", headers={"X-Forwarded-Proto": "https"})
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_pages_carry_no_inline_script_or_handlers(app, client):
    admin = sign_in(app.test_client(), "admin")
    pages = [client.get("/enrol/"), admin.get("/admin/users"), admin.get("/admin/audit"),
             app.test_client().get("/auth/login"), client.get("/auth/password")]
    for page in pages:
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
        assert not re.search(r"\son[a-z]+\s*=", html) and "style=" not in html


def test_session_cookie_is_http_only_and_lax_by_default(sandbox):
    app = make_app(sandbox.url)
    cookie = login_cookie(app)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Partitioned" not in cookie


def test_framing_allowed_origins_gets_a_partitioned_cross_site_cookie(sandbox):
    app = make_app(sandbox.url, {"FRAME_ANCESTORS": "https://tools.example.com https://intranet.example.com"})
    response = app.test_client().get("/auth/login")
    assert "frame-ancestors https://tools.example.com https://intranet.example.com" in \
        response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    cookie = login_cookie(app)
    assert all(part in cookie for part in ("Secure", "HttpOnly", "SameSite=None", "Partitioned"))


def login_cookie(app) -> str:
    client = app.test_client()
    html = client.get("/auth/login").get_data(as_text=True)
    response = client.post("/auth/login", data={"csrf_token": EnrolPage.hidden(html, "csrf_token"),
                                                "username": "otto", "password": PASSWORD})
    return next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session="))


def test_enrolling_too_fast_gets_a_friendly_429(sandbox, face_set):
    app = make_app(sandbox.url, RATE_LIMIT_ENROL="2 per minute")
    page = EnrolPage(sign_in(app.test_client()))
    statuses = [page.send(face("obama-240p.jpg"), faceSetId=face_set).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]
    limited = page.send(face("obama-240p.jpg"), faceSetId=face_set)
    assert "Too many requests" in limited.get_data(as_text=True) and "2 per 1 minute" in limited.get_data(as_text=True)
    other_user = EnrolPage(sign_in(app.test_client(), "admin"))  # the limit is per user
    assert other_user.send(face("obama-240p.jpg"), faceSetId=face_set).status_code == 422


def test_guessing_passwords_is_limited_per_address(sandbox):
    app = make_app(sandbox.url, RATE_LIMIT_LOGIN="3 per minute")
    client = app.test_client()
    html = client.get("/auth/login").get_data(as_text=True)
    token = EnrolPage.hidden(html, "csrf_token")
    codes = [client.post("/auth/login", data={"csrf_token": token, "username": f"user{i}", "password": "x"}
                         ).status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_rate_limit_counters_live_in_redis_and_are_shared(sandbox, face_set, redis_url):
    import redis

    prefix = f"facesite-test-{uuid.uuid4().hex}"
    first = make_app(sandbox.url, {"REDIS_URL": redis_url}, RATE_LIMIT_ENROL="2 per minute", RATELIMIT_KEY_PREFIX=prefix)
    second = make_app(sandbox.url, {"REDIS_URL": redis_url}, RATE_LIMIT_ENROL="2 per minute", RATELIMIT_KEY_PREFIX=prefix)
    assert first.config["RATELIMIT_STORAGE_URI"] == redis_url
    one, two = EnrolPage(sign_in(first.test_client())), EnrolPage(sign_in(second.test_client()))
    assert one.send(face("obama-240p.jpg"), faceSetId=face_set).status_code == 422
    assert two.send(face("obama-240p.jpg"), faceSetId=face_set).status_code == 422
    assert one.send(face("obama-240p.jpg"), faceSetId=face_set).status_code == 429  # counted across both
    keys = redis.Redis.from_url(redis_url).keys(f"*{prefix}*")
    assert keys
    redis.Redis.from_url(redis_url).delete(*keys)
