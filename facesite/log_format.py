"""How log lines look: ``LOG_FORMAT=text`` (the default, for people) or ``json`` (one object per line, for a
log pipeline), both with the request id (request_ids.py) on every line.

The portal's own loggers and gunicorn's (its error log and access log, under the Procfile) get the same
format, so a JSON pipeline never meets a line it cannot parse.
"""
from __future__ import annotations

import logging
import re

from pythonjsonlogger.json import JsonFormatter

from facesite.request_ids import RequestIdFilter

FORMATS = ("text", "json")
TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


# The secret part of a one-time link (the first administrator's, a password reset) is in its path, which
# request lines show: it is written as "[hidden]" instead, so a log reader cannot use a link nobody has used yet.
_LINK_SECRET = re.compile(r"(/auth/(?:setup|reset)/)[^\s/?#\"']+")
# The company sign-in's callback carries the authorization code and the state in its query: hidden too.
_CALLBACK_QUERY = re.compile(r"(/auth/oidc/callback)\?[^\s\"']*")


def without_link_secrets(text: str) -> str:
    """``text`` (a request line, a path) with the secret part of any one-time link, and the company sign-in's
    code and state, hidden."""
    if "/auth/" not in text:
        return text
    return _CALLBACK_QUERY.sub(r"\1?[hidden]", _LINK_SECRET.sub(r"\1[hidden]", text))


def hide_link_secrets(record: logging.LogRecord) -> bool:
    """A logging filter for request lines (gunicorn's access log, Werkzeug's). Not for the portal's own
    lines (they name a path through without_link_secrets): the first administrator's link is printed to
    its log on purpose."""
    message = record.getMessage()
    hidden = without_link_secrets(message)
    if hidden != message:
        record.msg, record.args = hidden, None
    return True


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        # These keys (process: which gunicorn worker), and exc_info with a traceback (no extra= fields are used).
        return JsonFormatter("%(asctime)s %(levelname)s %(name)s %(process)d %(request_id)s %(message)s",
                             rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})
    return logging.Formatter(TEXT)


def handler(log_format: str, stream) -> logging.Handler:
    """A handler writing to ``stream`` in ``log_format``, with the request id."""
    written = logging.StreamHandler(stream)
    written.setFormatter(formatter(log_format))
    written.addFilter(RequestIdFilter())
    return written


def gunicorn_logger_class(log_format: str):
    """gunicorn.conf.py's ``logger_class``: gunicorn's own logger, its lines in ``log_format``."""
    from gunicorn.glogging import Logger

    class FormattedLogger(Logger):
        def setup(self, cfg):
            super().setup(cfg)
            self.access_log.addFilter(hide_link_secrets)
            if log_format != "json":  # gunicorn's text lines as they are (the access line shows the id)
                return
            for log in (self.error_log, self.access_log):
                for each in log.handlers:
                    each.setFormatter(formatter(log_format))
                    each.addFilter(RequestIdFilter())

    return FormattedLogger
