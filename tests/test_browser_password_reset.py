"""Issue 18, item 7 in Chromium: an administrator makes a reset link, the person opens it signed out, sets a
password and signs in with it; the link refuses a second use; wrong passwords say how many tries are left."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support import browser_sign_in
from tests.support.account_pages import user_id
from tests.test_browser_languages import WALK_LANGUAGES, WalkChecks
from tests.test_browser_photos import AXE, serious_violations, tab  # noqa: F401 (tab: a fixture)

SHOTS = Path("/work/shots/accounts")
NEW_PASSWORD = "my own new passphrase"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in_as(page, username: str, password: str):
    page.goto("/auth/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#submit")


def test_an_administrator_hands_over_a_reset_link_that_works_once(tab, live_portal):  # noqa: F811
    browser_sign_in(tab, "ada")
    tab.goto("/admin/users")
    expect(tab.locator("#users-table")).to_contain_text("with a password")  # otto can have a reset link
    tab.get_by_role("link", name="Manage otto").click()
    expect(tab.locator("h1")).to_have_text("User otto")
    expect(tab.locator("#reset-link-hint")).to_contain_text("It works once, for 24 hours")
    tab.get_by_role("button", name="Make a reset link otto").click()
    expect(tab.locator("#reset-link")).to_contain_text("Pass this link on to otto. It is shown only now")
    address = tab.locator("#reset-link-address").input_value()
    assert address.startswith(f"{live_portal.url}/auth/reset/")
    found = {"user page with the link": serious_violations(tab)}
    shot(tab, "admin-reset-link")
    tab.click("text=Sign out")
    expect(tab.locator("h1")).to_have_text("Sign in")
    expect(tab.locator("#forgotten-password")).to_contain_text("one-time link")

    tab.goto(address)
    expect(tab.locator("h1")).to_have_text("Choose a new password")
    expect(tab.locator("main")).to_contain_text("This link lets otto choose a new password.")
    tab.fill("#password", NEW_PASSWORD)
    tab.fill("#confirm", "not the same passphrase")
    tab.click("#submit")
    expect(tab.locator("#confirm-error")).to_have_text("The passwords differ.")
    found["reset page with a problem"] = serious_violations(tab)
    shot(tab, "reset-page-passwords-differ")
    tab.fill("#password", NEW_PASSWORD)
    tab.fill("#confirm", NEW_PASSWORD)
    tab.click("#submit")
    expect(tab.locator(".flash.info")).to_have_text("Your new password is set, otto. Sign in with it.")
    shot(tab, "reset-done-sign-in")
    sign_in_as(tab, "otto", NEW_PASSWORD)
    expect(tab.locator(".account")).to_contain_text("otto")
    tab.click("text=Sign out")

    tab.goto(address)
    expect(tab.locator("#reset-link-problem")).to_contain_text("It has been used already")
    expect(tab.locator("#password")).to_have_count(0)
    found["used link"] = serious_violations(tab)
    shot(tab, "reset-link-used")
    tab.set_viewport_size({"width": 375, "height": 740})
    shot(tab, "reset-link-used-phone")
    assert AXE.exists() and {name: v for name, v in found.items() if v} == {}, found


def test_wrong_passwords_say_how_many_tries_are_left(browser, live_portal):
    context = browser.new_context(base_url=live_portal.url)
    tab = context.new_page()
    for left in (4, 3, 2, 1):
        sign_in_as(tab, "vera", "a wrong guess")
        expect(tab.locator(".flash.error")).to_have_text("Wrong username or password.")
        try_word = "try" if left == 1 else "tries"
        expect(tab.locator(".flash.warning")).to_have_text(
            f"{left} {try_word} left before this username is locked for 15 minutes.")
    shot(tab, "sign-in-one-try-left")
    sign_in_as(tab, "vera", "a wrong guess")
    expect(tab.locator(".flash.warning")).to_have_text("No tries left: this username is locked for 15 minutes.")
    shot(tab, "sign-in-no-tries-left")
    sign_in_as(tab, "vera", "correct horse battery")
    expect(tab.locator(".flash.error")).to_contain_text("Too many failed sign-ins for this username")
    tab.set_viewport_size({"width": 375, "height": 740})
    shot(tab, "sign-in-locked-phone")
    context.close()


@pytest.mark.parametrize("code,width", [(code, 1280) for code in WALK_LANGUAGES] + [("th", 390)])
def test_the_reset_pages_and_the_warning_in_other_languages(browser, live_portal, code, width):
    """The same path in Bahasa Indonesia, Thai and Vietnamese (Thai on a phone too): no English left, and
    nothing cut off or overlapping (the layout check of the language walk)."""
    context = browser.new_context(base_url=live_portal.url, locale=code, viewport={"width": width, "height": 900})
    tab = context.new_page()
    english = WalkChecks(code, ["ada", "otto", "vera"], tab)
    pictured = width == 1280 and code == "th"
    browser_sign_in(tab, "ada")
    tab.goto("/admin/users")
    tab.locator("#users-table a[href$='/admin/users/%s']" % user_id(live_portal.app, "otto")).first.click()
    english.check(tab, "user page")
    tab.locator("form[action$='/reset-link'] button").click()
    expect(tab.locator("#reset-link")).to_be_visible()
    # The security log's details are records, kept as written (in English) for every reader, like the vendor's
    # messages: the one about this link is data here.
    english.data = sorted(english.data + tab.locator("#user-history td:nth-child(6)").all_inner_texts(),
                          key=len, reverse=True)
    english.check(tab, "user page with the link")
    if pictured:
        shot(tab, "th-user-page-with-the-link")
    address = tab.locator("#reset-link-address").input_value()
    if tab.locator(".menu > summary").is_visible():  # on a phone the sign-out button is in the menu
        tab.click(".menu > summary")
    tab.locator("form[action$='/auth/logout'] button").click()

    tab.goto(address)
    tab.fill("#password", NEW_PASSWORD)
    tab.fill("#confirm", "not the same passphrase")
    tab.click("#submit")
    expect(tab.locator("#confirm-error")).to_be_visible()
    english.check(tab, "reset page")
    if pictured:
        shot(tab, "th-reset-page")
    tab.fill("#password", NEW_PASSWORD)
    tab.fill("#confirm", NEW_PASSWORD)
    tab.click("#submit")
    expect(tab.locator(".flash.info")).to_be_visible()
    english.check(tab, "sign-in after the reset")
    tab.goto(address)
    expect(tab.locator("#reset-link-problem")).to_be_visible()
    english.check(tab, "used link")
    sign_in_as(tab, "vera", "a wrong guess")
    expect(tab.locator(".flash.warning")).to_be_visible()
    english.check(tab, "tries left")
    if pictured:
        shot(tab, "th-sign-in-tries-left")
    context.close()
    assert not english.found, "\n".join(english.found)
