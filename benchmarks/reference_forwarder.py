"""The reference forwarder: the least a Python proxy can do for Add Face and Search, as a yardstick
for the portal (issue 14). It parses the same multipart form, signs and caches an access token,
sends the multipart upstream with requests and answers a one-line page. No accounts, no checks.

Served by benchmarks/portal_overhead.py under gunicorn gthread with the Procfile's processes and
threads: FORWARDER_UPSTREAM, FORWARDER_ACCESS_KEY and FORWARDER_SECRET_KEY name the vendor.
"""
import os
import time

import requests
from flask import Flask, request

from facesite.advance.tokens import AccessTokenCache, sign

app = Flask(__name__)
upstream, access_key, secret_key = (os.environ.get(f"FORWARDER_{name}", "") for name in
                                    ("UPSTREAM", "ACCESS_KEY", "SECRET_KEY"))
vendor = requests.Session()
vendor.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=128))
tokens = AccessTokenCache()


def new_token() -> tuple[str, float]:
    timestamp = str(int(time.time() * 1000))
    data = vendor.post(upstream + "/openapi/auth/ticket/v1/generate-token", timeout=30, json={
        "accessKey": access_key, "timestamp": timestamp, "signature": sign(access_key, secret_key, timestamp)},
    ).json()["data"]
    return data["token"], data["expiredTime"] / 1000


@app.post("/<any(facereferences, search):call>")
def forward(call):
    picture = request.files["faceImage"]
    sent = vendor.post(f"{upstream}/intl/openapi/face-search/{call}", timeout=(5, 30),
                       headers={"X-ACCESS-TOKEN": tokens.get((upstream, access_key), new_token)},
                       data={key: value for key, value in request.form.items() if value},
                       files={"faceImage": (picture.filename, picture.read(), picture.mimetype)})
    return f"<!doctype html><p>{sent.json()['code']}</p>\n"


@app.get("/healthz")
def healthz():  # for the benchmark to know it is up
    return "ok"
