"""A reverse proxy on loopback that mounts the portal under a path, as a company's tools host does: requests
to /faces/... reach the portal without /faces and with X-Forwarded-Prefix (and -For, -Host, -Proto); any
other path is answered 404 here and noted in ``escaped``, so a link that leaves the mount path is seen."""
from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from tests.support.servers import ServerThread

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class MountingProxy:
    def __init__(self, upstream_url: str, prefix: str = "/faces"):
        self.upstream = urlsplit(upstream_url)
        self.prefix = prefix
        self.escaped: list[str] = []
        self.server = ServerThread(self)
        self.url = self.server.url

    def __call__(self, environ, start_response):
        target = environ.get("REQUEST_URI") or environ["PATH_INFO"]  # as the browser sent it, still encoded
        if not (target == self.prefix or target.startswith((self.prefix + "/", self.prefix + "?"))):
            self.escaped.append(target)
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not under the portal's path\n"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                   if key.startswith("HTTP_") and key[5:].lower().replace("_", "-") not in HOP_BY_HOP | {"host"}}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        headers.update({"X-Forwarded-Prefix": self.prefix, "X-Forwarded-For": environ["REMOTE_ADDR"],
                        "X-Forwarded-Host": environ["HTTP_HOST"], "X-Forwarded-Proto": "http"})
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=120)
        try:
            rest = target[len(self.prefix):]
            connection.request(environ["REQUEST_METHOD"], rest if rest.startswith("/") else "/" + rest, body=body,
                               headers=headers)
            answer = connection.getresponse()
            content = answer.read()
        finally:
            connection.close()
        start_response(f"{answer.status} {answer.reason}",
                       [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}]
                       + [("Content-Length", str(len(content)))])
        return [content]

    def stop(self):
        self.server.stop()
