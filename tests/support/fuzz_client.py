"""A raw HTTP/1.1 client for the fuzz suite, and a reader of the forms on a page.

Ordinary clients (requests, http.client) refuse to send what the fuzz must send: header values
with CR, LF or bytes that are not ASCII, a Content-Length that does not match the body, a request
line that is not one. This one writes the bytes it is given on a fresh socket, half-closes it (so a
server waiting for a promised body sees its end instead of hanging) and reads one answer.
"""
from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import CookieError, SimpleCookie

AUTO = object()  # Content-Length: the body's real length


@dataclass
class Answer:
    status: int  # 0: no answer at all (connection cut, or nothing within the timeout)
    headers: list[tuple[str, str]]
    body: bytes
    error: str = ""  # why there is no answer

    def header(self, name: str) -> str:
        return next((value for key, value in self.headers if key.lower() == name.lower()), "")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def as_bytes(value) -> bytes:
    # latin-1 keeps every code point below 256 as one byte; anything else goes as UTF-8 bytes
    if isinstance(value, bytes):
        return value
    try:
        return str(value).encode("latin-1")
    except UnicodeEncodeError:
        return str(value).encode("utf-8", "surrogatepass")


def request_bytes(method, target, headers, body: bytes, content_length=AUTO, version=b"HTTP/1.1") -> bytes:
    """The request exactly as it goes on the wire. ``headers`` is a list of (name, value);
    a value of None sends the name alone as a raw line; ``content_length`` is AUTO, None (no header)
    or any value to claim."""
    lines = [as_bytes(method) + b" " + as_bytes(target) + b" " + version]
    lines += [as_bytes(name) if value is None else as_bytes(name) + b": " + as_bytes(value) for name, value in headers]
    if content_length is AUTO:
        if body or method not in ("GET", "HEAD"):
            lines.append(b"Content-Length: " + str(len(body)).encode())
    elif content_length is not None:
        lines.append(b"Content-Length: " + as_bytes(content_length))
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def exchange(host: str, port: int, raw: bytes, method: str = "GET", timeout: float = 60) -> Answer:
    """Send ``raw`` on a new connection and read one answer."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as error:
        return Answer(0, [], b"", f"could not connect: {error}")
    with sock:
        try:
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer (413, 400) and close before reading everything: read what it said
        response = http.client.HTTPResponse(sock, method="HEAD" if method == "HEAD" else "GET")
        try:
            response.begin()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            return Answer(0, [], b"", f"{type(error).__name__}: {error}")
        return Answer(response.status, list(response.getheaders()), body)


class CookieJar:
    """The cookies one client holds (only the portal's own host, so names are enough)."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def update(self, answer: Answer) -> None:
        for key, value in answer.headers:
            if key.lower() != "set-cookie":
                continue
            try:
                parsed = SimpleCookie(value)
            except CookieError:
                continue
            for name, morsel in parsed.items():
                if not morsel.value or morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def clear(self) -> None:
        self.cookies.clear()


@dataclass
class FormField:
    name: str
    kind: str  # text, hidden, password, file, checkbox, select, textarea, submit, ...
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    action: str
    method: str
    enctype: str
    fields: list[FormField] = field(default_factory=list)

    def value(self, name: str) -> str:
        return next((f.value for f in self.fields if f.name == name), "")


class FormReader(HTMLParser):
    """Every form on a page: where it goes, how, and its named fields with their values."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._select: FormField | None = None
        self._textarea: FormField | None = None

    @classmethod
    def read(cls, html: str) -> list[Form]:
        reader = cls()
        reader.feed(html)
        reader.close()
        return reader.forms

    def handle_starttag(self, tag, attrs):
        attrs = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append(Form(attrs.get("action", ""), attrs.get("method", "get").upper(),
                                   attrs.get("enctype", "application/x-www-form-urlencoded")))
        elif not self.forms or not attrs.get("name") and tag != "option":
            return
        elif tag == "input":
            self.forms[-1].fields.append(FormField(attrs["name"], attrs.get("type", "text"), attrs.get("value", "")))
        elif tag == "select":
            self._select = FormField(attrs["name"], "select")
            self.forms[-1].fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._select.options.append(attrs.get("value", ""))
        elif tag == "textarea":
            self._textarea = FormField(attrs["name"], "textarea")
            self.forms[-1].fields.append(self._textarea)
        elif tag == "button":
            self.forms[-1].fields.append(FormField(attrs["name"], "submit", attrs.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data
