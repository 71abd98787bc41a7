"""How the client reaches the vendor: which addresses it accepts, and an HTTP session that trusts
nothing it was not told to.

Every request carries the access token (or the access key and a signature) and, for Add Face and
Search, a face picture and perhaps an ID number. So the session never follows a redirect (requests
would re-send all of it to whatever host a 307 names), uses plain http only to this machine, and
ignores proxy and certificate settings from the environment unless the portal's own setting asks
for them: a stray HTTPS_PROXY must not route biometric data through a host nobody chose.
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from facesite.advance.envelope import TransportError, TransportFailure


def is_loopback(url: str) -> bool:
    """True when the URL's host is this machine (127.0.0.0/8, ::1 or localhost)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url_problem(url: str) -> str | None:
    """Why the client must not send to this base URL, or None when it may."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an https:// address with a host name, such as https://api.advance.ai"
    if parts.username or parts.password:
        # It would show wherever the address is shown (logs, the client's repr).
        return "must not hold a user name or password"
    if parts.scheme == "http" and not is_loopback(url):
        return (f"must use https: {parts.hostname} is not this machine, and plain http would carry the access "
                "token, face pictures and ID numbers unencrypted (http is only for a stand-in vendor on "
                "127.0.0.1, such as the sandbox)")
    return None


def vendor_session(*, pool_size: int, use_env_proxy: bool) -> requests.Session:
    """A session for one vendor host; every call on it must pass ``allow_redirects=False``.
    ``use_env_proxy``: honour HTTP(S)_PROXY, ALL_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE and .netrc from the
    environment, as requests does by default."""
    session = requests.Session()
    session.trust_env = use_env_proxy
    # Retry only failures to connect: the request never left, so a repeat cannot
    # add a face twice. Nothing that may have reached the vendor is replayed here.
    retry = Retry(total=2, connect=2, read=0, status=0, other=0, redirect=0,
                  backoff_factor=0.2, raise_on_status=False)
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def refuse_redirect(step: str, response: requests.Response) -> TransportError:
    """The error for a 3xx answer, which is never followed. The vendor's API never redirects, so this
    is a wrong ADVANCE_BASE_URL or something in the way; the address that answered did not act on
    the call (a redirect says "not here"), so nothing was done."""
    target = urlsplit(response.headers.get("Location", "")).hostname
    where = f" to {target[:100]}" if target else ""
    return TransportError(TransportFailure.REDIRECT, f"HTTP {response.status_code} redirect{where}, not followed: the portal "
                                      "never sends the token or the data on to another address",
                          may_have_reached=False, step=step, http_status=response.status_code)
