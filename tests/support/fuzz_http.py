"""Hypothesis strategies for the HTTP around a request: query arguments, headers, and bodies
(multipart, broken in drawn ways; urlencoded; JSON; bytes)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, quote_from_bytes

from hypothesis import strategies as st

from tests.support.fuzz_payloads import choice_of, encode_text, hostile_text, repeated


@dataclass
class Part:
    name: str
    value: bytes
    filename: str | None = None
    content_type: str | None = None


# -- query arguments --------------------------------------------------------------------------------

# Names the views read, names url_for treats specially, and names nothing reads.
QUERY_NAMES = ["endpoint", "_anchor", "_external", "_scheme", "_method", "next", "page", "rows", "faceSetId",
               "picture", "topK", "threshold", "since", "until", "user", "face_set", "outcome", "name", "reference",
               "role", "q", "format", "per_page", "sort", "order"]
QUERY_VALUES = ["-1", "0", str(10 ** 30), "1e3", "https://evil.example/", "//evil.example", "/\r\nSet-Cookie: x=1",
                "/%0d%0aLocation:%20http://evil.example", "\\\\evil.example", "javascript:alert(1)", "1", "true",
                "https", "main.healthz", "auth.logout"]


# Arguments that broke portals like this one: drawn whole, so they are not left to chance.
KNOWN_TRAPS = ["next=/%0d%0aSet-Cookie:%20x=1", "next=//evil.example", "next=/%E2%80%AE", "endpoint=x",
               "_anchor=x&_external=1&_scheme=javascript", "_method=DELETE", "page=-1", "page=0",
               "page=" + "9" * 30, "rows=%00", "since=9999-12-31&until=9999-12-31", "until=0001-01-01",
               "since=0000-00-00", "topK=" + "9" * 30, "threshold=nan", "threshold=inf", "picture=../x",
               "faceSetId=%00", "outcome=%F0%9F%98%80"]


def query_value() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(QUERY_VALUES), hostile_text())


def query_strings() -> st.SearchStrategy[str]:
    pair = st.tuples(st.one_of(st.sampled_from(QUERY_NAMES), st.text(max_size=8)), query_value())
    encoded = st.lists(pair, max_size=5).map(
        lambda pairs: "&".join(f"{quote(name)}={quote_from_bytes(encode_text(value))}" for name, value in pairs))
    odd = choice_of(["%zz", "a=%ff%fe", "=", "&&&", "a", "a=1&a=2", "page=" + "9" * 5000])
    return st.one_of(st.just(""), encoded, odd, st.sampled_from(KNOWN_TRAPS))


# -- headers ----------------------------------------------------------------------------------------

HOSTS = ["", "evil.example", "127.0.0.1:99999", "[::1", "localhost:abc", "héllo.example", "a" * 300,
         "127.0.0.1, evil.example", "127.0.0.1\x00evil"]
ODD_HEADERS = {
    "Host": HOSTS, "X-Forwarded-Host": HOSTS,
    "X-Forwarded-For": ["1.2.3.4", "garbage", "1.2.3.4, " * 60, "::1", "' or 1=1", "é"],
    "X-Forwarded-Proto": ["https", "gopher", "", "HTTPS, http"],
    "X-Forwarded-Port": ["99999", "-1", "abc"],
    "X-Forwarded-Prefix": ["/prefix", "//evil.example", "javascript:", "/é", "/a b"],
    "X-Proxy-Secret": ["é", "\u2603", "x" * 10_000], "X-Forwarded-Email": ["ada", "é@x", ""],
    "Cookie": ["session=garbage", "session=" + "A" * 5000, "session=.eJw.x.y", "remember_token=1|x"],
    "Accept": ["*/*;q=x", "text/html;q=0"], "Accept-Language": ["*;q=2", "ℤℤ"], "Accept-Encoding": ["gzip;q=9"],
    "Range": ["bytes=99999999-", "bytes=-0", "bytes=a-b"], "If-Modified-Since": ["not a date", "Mon, 99 Foo"],
    "Origin": ["null", "https://evil.example"], "Referer": ["https://evil.example/", "\u202e"],
    "Expect": ["100-continue", "900-nonsense"], "Authorization": ["Basic !!!", "Bearer " + "x" * 5000],
    "Content-Type": ["text/plain", "multipart/form-data", "multipart/form-data; boundary=", "application/json",
                     "application/x-www-form-urlencoded; charset=utf-16", "image/jpeg", "é/é"],
    "Transfer-Encoding": ["chunked", "gzip, chunked", "identity"], "Content-Encoding": ["gzip", "br"],
    "X-Long": [repeated("x", 16_000), repeated("x", 70_000)], "X-Ünïcode": ["1"], "Bad Header": ["1"],
}


def header_pairs() -> st.SearchStrategy[list[tuple[str, bytes]]]:
    named = st.sampled_from(sorted(ODD_HEADERS)).flatmap(
        lambda name: st.tuples(st.just(name), st.one_of(choice_of(ODD_HEADERS[name]), hostile_text())))
    encoded = named.flatmap(lambda pair: st.sampled_from(["utf-8", "latin-1"]).map(
        lambda encoding: (pair[0], encode_text(pair[1], encoding).replace(b"\r", b"").replace(b"\n", b""))))
    return st.lists(encoded, max_size=3)


# -- bodies -----------------------------------------------------------------------------------------

def multipart(parts: list[Part], boundary: bytes) -> bytes:
    body = b""
    for part in parts:
        disposition = f'form-data; name="{part.name}"'
        if part.filename is not None:
            disposition += f'; filename="{part.filename}"'
        body += b"--" + boundary + b"\r\nContent-Disposition: " + encode_text(disposition)
        if part.content_type:
            body += b"\r\nContent-Type: " + part.content_type.encode()
        body += b"\r\n\r\n" + part.value + b"\r\n"
    return body + b"--" + boundary + b"--\r\n"


def _breakages():
    """Ways to damage a multipart body: each takes and returns (content type, body)."""
    fraction = st.floats(0, 1, allow_nan=False)
    return st.one_of(
        st.just(lambda ct, body: (ct, body)),
        st.builds(lambda keep: lambda ct, body: (ct, body[: int(len(body) * keep)]), fraction),
        st.just(lambda ct, body: (ct, body.rsplit(b"--", 1)[0])),  # no closing boundary
        st.just(lambda ct, body: (ct.replace("boundary=", "boundary=other"), body)),
        st.just(lambda ct, body: ("multipart/form-data", body)),
        st.just(lambda ct, body: (ct + "; charset=utf-16", body)),
        st.just(lambda ct, body: (ct, body.replace(b"\r\n", b"\n"))),
        st.builds(lambda at: lambda ct, body: (ct, body[: int(len(body) * at)] + b"\x00" + body[int(len(body) * at):]),
                  fraction),
        st.just(lambda ct, body: (ct, body.replace(b"Content-Disposition", b"X-Header: " + b"h" * 100_000 +
                                                   b"\r\nContent-Disposition", 1))),
        st.just(lambda ct, body: (ct, body.replace(b"Content-Disposition: form-data; ", b"", 1))),
        st.just(lambda ct, body: (ct, _many_parts(ct) + body)),
        st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/mixed"])
        .map(lambda other: lambda ct, body: (other, body)),
    )


def _many_parts(content_type: str) -> bytes:
    boundary = content_type.split("boundary=", 1)[-1].encode()
    return b"".join(b"--" + boundary + b'\r\nContent-Disposition: form-data; name="p%d"\r\n\r\nx\r\n' % i
                    for i in range(1500))


def urlencoded(parts: list[Part]) -> bytes:
    return "&".join(f"{quote(part.name)}={quote_from_bytes(part.value)}" for part in parts).encode()


@st.composite
def body_encoders(draw):
    """A function turning the request's parts into (Content-Type, body): as a browser would, or broken
    in a drawn way. (Drawn before the parts are known: what the fuzz draws never depends on the portal.)"""
    kind = draw(st.sampled_from(["multipart"] * 6 + ["broken multipart"] * 2 + ["urlencoded", "json", "bytes"]))
    if kind == "urlencoded":
        return lambda parts: ("application/x-www-form-urlencoded", urlencoded(parts))
    if kind == "json":
        return lambda parts: ("application/json",
                              json.dumps({p.name: p.value.decode("latin-1") for p in parts}).encode())
    if kind == "bytes":
        content_type = draw(st.sampled_from(["application/octet-stream", "multipart/form-data; boundary=x"]))
        junk = draw(st.binary(max_size=256))
        return lambda parts: (content_type, junk)
    boundary = draw(st.sampled_from([b"----fuzz7MA4YWxkTrZu0gW", b"x", b"a" * 200, b"\"quoted\"", b"b o u n d"]))
    content_type = "multipart/form-data; boundary=" + boundary.decode()
    breakage = draw(_breakages()) if kind == "broken multipart" else (lambda ct, body: (ct, body))
    return lambda parts: breakage(content_type, multipart(parts, boundary))
