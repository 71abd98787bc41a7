"""Issue 12, case 6: the security log. Each account, setting and catalogue change is recorded with who
did it, to whom and from which address, and the admin security page filters, pages and survives
hostile filters; an event is written even when the request's own work is rolled back."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from facesite import security_events
from facesite.extensions import db
from facesite.models import SecurityEvent, User
from tests.support import PASSWORD, EnrolPage
from tests.support.account_pages import (CLIENT_ADDRESS, act, admin, csrf, lock_out, security_rows,  # noqa: F401
                                         table_rows, user_id)


def test_every_account_settings_and_catalogue_change_is_on_the_security_page(app, admin, monkeypatch):
    """Each event this part of the portal records shows who did it, to whom, and from which address."""
    admin.post("/admin/users", data={"csrf_token": csrf(admin), "username": "nina", "password": PASSWORD,
                                     "confirm": PASSWORD, "role": "viewer"})
    nina = user_id(app, "nina")
    act(admin, nina, "role", role="operator")
    act(admin, nina, "disable")
    act(admin, nina, "enable")
    lock_out(app, "nina")
    act(admin, nina, "unlock")
    page = admin.get(f"/admin/users/{nina}").get_data(as_text=True)
    new_password = "another passphrase"
    admin.post(f"/admin/users/{nina}/password", data={"csrf_token": EnrolPage.hidden(page, "csrf_token"),
                                                      "password": new_password, "confirm": new_password})
    act(admin, nina, "remove")

    settings = admin.get("/admin/settings").get_data(as_text=True)
    admin.post("/admin/settings", data={"csrf_token": EnrolPage.hidden(settings, "csrf_token"),  # "prepare" unticked
                                        "check_duplicates": "y"})
    face_sets = admin.get("/admin/face-sets").get_data(as_text=True)
    admin.post("/admin/face-sets", data={"csrf_token": EnrolPage.hidden(face_sets, "csrf_token"),
                                         "id": "branch-7", "label": "Branch 7"})
    edit = admin.get("/admin/face-sets/branch-7").get_data(as_text=True)
    admin.post("/admin/face-sets/branch-7", data={"csrf_token": EnrolPage.hidden(edit, "csrf_token"),
                                                  "label": "Branch seven", "default_top_k": "5"})

    expected = {"user_created": "nina", "role_changed": "nina", "user_disabled": "nina", "user_enabled": "nina",
                "unlocked": "nina", "user_changed": "nina", "user_removed": "nina",
                "setting_changed": "prepare_pictures"}
    for event, subject in expected.items():
        rows = security_rows(admin, event=event)
        assert [(r["actor"], r["subject"], r["address"]) for r in rows] == [("ada", subject, CLIENT_ADDRESS)], event
    assert "on → off" in security_rows(admin, event="setting_changed")[0]["detail"]

    catalogue = security_rows(admin, event="face_set_changed", subject="branch-7")
    assert [(r["actor"], r["address"]) for r in catalogue] == [("ada", CLIENT_ADDRESS)] * 2
    assert "'Branch 7' → 'Branch seven'" in catalogue[0]["detail"] and "added" in catalogue[1]["detail"]

    monkeypatch.setenv("FACESITE_PASSWORD", PASSWORD)
    result = app.test_cli_runner().invoke(args=["create-user", "carl", "--role", "viewer"])
    assert result.exit_code == 0, result.output
    [created] = security_rows(admin, event="user_created", subject="carl")
    assert created["actor"] == "command line" and created["address"] == "—"


def test_the_security_page_filters_pages_and_shows_newest_first(app, admin):
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        for n in range(55):
            security_events.record("csv_export", actor="otto", subject=f"export-{n}")
        security_events.record("access_denied", actor="vera", subject="admin.users")

    exports = admin.get("/admin/security", query_string={"event": "csv_export", "actor": "OTTO"})
    html = exports.get_data(as_text=True)
    rows = table_rows(html, "security-table")
    assert "55 events" in html and len(rows) == 50
    assert rows[0][3] == "export-54" and rows[0][4] == "203.0.113.9"
    older = admin.get("/admin/security", query_string={"event": "csv_export", "actor": "otto", "page": 2})
    assert [row[3] for row in table_rows(older.get_data(as_text=True), "security-table")] == \
        [f"export-{n}" for n in range(4, -1, -1)]

    assert [row["actor"] for row in security_rows(admin, event="access_denied")] == ["vera"]
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    assert security_rows(admin, since=tomorrow) == []
    assert len(security_rows(admin, actor="vera", since=yesterday, until=tomorrow)) == 1
    assert 'id="security-log-link"' in admin.get("/admin/audit").get_data(as_text=True)


@pytest.mark.parametrize("query", [
    {"event": "drop table"}, {"since": "yesterday"}, {"until": "2026-13-45"}, {"actor": "x" * 5000},
    {"page": "-3"}, {"page": "99999999999999999999999"}, {"subject": "\x00\ufffd<script>"},
])
def test_a_hostile_filter_gets_a_page_not_an_error(admin, query):
    answer = admin.get("/admin/security", query_string=query)
    assert answer.status_code == 200
    assert "<script>" not in answer.get_data(as_text=True)


def test_an_event_survives_a_rollback_of_the_request_and_a_bad_one_never_raises(app, caplog):
    with app.test_request_context(environ_base={"REMOTE_ADDR": "198.51.100.4"}):
        db.session.add(User(username="ghost", role="viewer"))
        security_events.record("user_created", actor="ada", subject="ghost")
        db.session.rollback()
        security_events.record("not_an_event", subject="x")  # logged, not raised
        security_events.record("user_changed", actor="ada", subject="y" * 10_000)  # cut to fit, not refused
        rows = db.session.execute(db.select(SecurityEvent.event, SecurityEvent.subject, SecurityEvent.address)
                                  .order_by(SecurityEvent.id)).all()
        assert db.session.scalar(db.select(User).filter_by(username="ghost")) is None
    assert ("user_created", "ghost", "198.51.100.4") in rows
    assert ("user_changed", "y" * 254, "198.51.100.4") in rows
    assert not any(event == "not_an_event" for event, _, _ in rows)
    assert re.search(r"could not record security event not_an_event", caplog.text)


def test_in_a_browser_an_administrator_disables_then_removes_an_account(browser, live_portal, app):
    """The buttons, the confirmation step and the security log in Chromium, with no serious axe finding."""
    from playwright.sync_api import expect

    from tests.support import browser_sign_in
    from tests.test_browser_photos import AXE, serious_violations

    context = browser.new_context(base_url=live_portal.url, bypass_csp=True)  # bypass: to inject axe only
    tab = context.new_page()
    browser_sign_in(tab, "ada")
    tab.goto("/admin/users")
    tab.get_by_role("button", name="Disable vera").click()
    expect(tab.locator(".flash.info")).to_contain_text("vera is disabled")
    tab.get_by_role("link", name="Manage vera").click()
    expect(tab.locator("h1")).to_have_text("User vera")
    found = {"user page": serious_violations(tab)}
    tab.get_by_role("link", name="Remove vera…").click()
    expect(tab.locator("h1")).to_have_text("Remove vera?")
    found["confirmation"] = serious_violations(tab)
    tab.click("#confirm-remove")
    expect(tab.locator(".flash.info")).to_contain_text("vera is removed")
    expect(tab.locator("#users-table")).not_to_contain_text("vera")
    tab.goto("/admin/audit")
    tab.click("#security-log-link")
    tab.select_option("#event", "user_removed")
    tab.get_by_role("button", name="Filter").click()
    expect(tab.locator("#security-table tbody tr")).to_have_count(1)
    expect(tab.locator("#security-table")).to_contain_text("vera")
    found["security log"] = serious_violations(tab)
    context.close()
    assert AXE.exists() and {name: v for name, v in found.items() if v} == {}, found
