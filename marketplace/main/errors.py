"""Error pages (400/403/404/405/413/429/500) without stack traces, and DomainError -> 4xx."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from marketplace.errors import DomainError

log = logging.getLogger("canal.errors")

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back, reload the page and try again.")),
    403: (_l("Not allowed"), _l("You don't have permission to see this page or do this action.")),
    404: (_l("Page not found"), _l("The page you are looking for does not exist or was moved.")),
    405: (_l("Not allowed"), _l("This page can't be used that way.")),
    409: (_l("Not possible now"), _l("This can't be done in the current state.")),
    413: (_l("File too large"), _l("The upload is larger than we accept. Choose a smaller file.")),
    429: (_l("Too many attempts"), _l("You tried this too often. Wait a minute and try again.")),
    500: (_l("Something went wrong"), _l("We could not complete the request. Nothing was changed. Please try again.")),
}


def render_error(status: int, detail=None):
    title, message = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    return render_template("errors/error.html", status=status, title=title, message=detail or message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(400, _l("Your form expired or was sent from another site. Reload the page and try again."))

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        return render_error(error.status_code, error.message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        if status in (301, 302, 303, 307, 308):
            return error
        return render_error(status)

    @app.errorhandler(Exception)
    def unhandled(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)
