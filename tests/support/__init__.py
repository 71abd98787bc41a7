"""Helpers for the tests: test portals and their staff (portal.py), the browser (browser.py), stand-in
servers (servers.py), and the builders of pictures, batches, hostile requests and page checks beside them.
Fixtures live in tests/conftest.py; everything a test imports comes from here."""
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS, browser_sign_in, pick_face_set  # noqa: F401
from tests.support.portal import (CATALOGUE, FACES, OPERATOR, PASSWORD, POSTGRES_SERVER, ROOT,  # noqa: F401
                                  SANDBOX_ACCESS_KEY, SANDBOX_KEYS, SANDBOX_SECRET_KEY, STAFF, TEST_LIMITS,
                                  UNLISTED_ENV, EnrolPage, ThisTest, catalogue_face_sets, documented_env, face,
                                  make_app, password_hash, portal_settings, portal_without_accounts, sign_in, sign_out)
