"""Issue 24, "also" item: a reset link an administrator makes took its host from the request, which the
client chooses (a browser tricked into it, or a proxy that passes on any Host). Without PUBLIC_URL a link
is built from the request's address only when that is the loopback; any other Host gets a refusal that
asks for PUBLIC_URL, and no link is made. Before: the page showed http://evil.example/auth/reset/<token>."""
from __future__ import annotations

import html

from flask.testing import FlaskClient

from facesite.extensions import db
from facesite.models import OneTimeLink
from tests.support import make_app, sign_in
from tests.support.account_pages import csrf, user_id

LINK_FORM = "/admin/users/{}/reset-link"


class BrowserAt(FlaskClient):
    """A test client whose every request names ``host`` in its Host header."""

    def __init__(self, app, host: str):
        super().__init__(app, app.response_class, use_cookies=True)
        self.host = host

    def open(self, *args, **kwargs):
        if not kwargs.get("base_url"):
            kwargs["base_url"] = f"http://{self.host}"
        return super().open(*args, **kwargs)


def reset_links(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(OneTimeLink).filter_by(purpose="reset"))


def make_link(app, host: str) -> str:
    """An administrator whose browser sends ``host`` as the Host (signed in under it, as browsers keep
    cookies per host) presses "Make a reset link" on otto's page; the page that answers."""
    admin = sign_in(BrowserAt(app, host), "admin")
    otto = user_id(app, "otto")
    answer = admin.post(LINK_FORM.format(otto), data={"csrf_token": csrf(admin, f"/admin/users/{otto}")},
                        follow_redirects=True)
    assert answer.status_code == 200, answer.status_code
    return html.unescape(answer.get_data(as_text=True))


def test_no_reset_link_is_built_from_a_host_the_portal_does_not_trust(app):
    page = make_link(app, "evil.example")
    assert "evil.example/auth/reset/" not in page
    assert "PUBLIC_URL, which sets it, is not set" in page and "(evil.example)" in page
    assert reset_links(app) == 0

    for loopback in ("localhost", "127.0.0.1:5000", "[::1]:8000"):
        page = make_link(app, loopback)
        assert f'value="http://{loopback}/auth/reset/' in page, loopback


def test_with_public_url_the_link_names_it_whatever_host_was_sent(sandbox):
    app = make_app(sandbox.url, {"PUBLIC_URL": "https://tools.example.com/faces"})
    page = make_link(app, "evil.example")
    assert 'value="https://tools.example.com/faces/auth/reset/' in page and "evil.example/auth" not in page
