"""What lets operators see into the portal: request ids (request_ids.py) and /metrics (web/metrics.py)."""
from __future__ import annotations

from flask import Flask

from facesite import request_ids
from facesite.config import settings
from facesite.web.metrics import bp, count_requests


def init_app(app: Flask) -> None:
    """After ProxyFix and the other middleware are in place: the request id's middleware goes outermost,
    so even an answer given before Flask (a Host refused) carries it."""
    app.register_blueprint(bp)
    app.after_request(count_requests)
    app.context_processor(request_ids.template_context)
    app.wsgi_app = request_ids.RequestIds(app.wsgi_app, trust_router=settings(app).trusted_proxy_hops > 0)
