"""What the logs and error pages may say.

- An unhandled error gets an incident id: the page (or htmx message) shows only that id; the log line
  carries the id, the endpoint and the traceback, so staff can quote the id and an admin finds it.
- Every log record of the process passes through ``redact``: phone-like and identity-number-like digit
  runs are replaced before any handler sees them (message, arguments and the formatted traceback,
  where a database error may quote the row it refused). Form bodies are never logged.
- A request the policy refuses (403/404) is logged with the user id, endpoint and method only.
"""

import logging
import re
import secrets
import traceback

from flask import current_app, g, render_template, request

REDACTED = "[redacted]"
_PATTERNS = [
    # 18-digit resident identity numbers (last may be X) and 15-digit old ones, with optional separators.
    re.compile(r"(?<![0-9A-Za-z])\d{6}[\s-]?\d{8}[\s-]?\d{3}[\dXx](?![0-9A-Za-z])"),
    # Mainland mobile numbers, optionally +86 and grouped 3-4-4.
    re.compile(r"(?:\+?86[\s-]?)?(?<![0-9A-Za-z])1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?![0-9A-Za-z])"),
    # Any other long digit run (landlines, card numbers, an identity number cut short); not digits inside
    # a hex id or token (a migration revision, an incident id). Chinese text around digits still counts.
    re.compile(r"(?<![0-9A-Za-z])\d{7,}[Xx]?(?![0-9A-Za-z])"),
]


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def format_traceback_without_messages(exc_info) -> str:
    """The traceback with each exception's type but not its message: messages quote data (a database
    error quotes the row it refused: a note, a phone number) or configuration."""
    te = traceback.TracebackException(*exc_info)
    seen, stack = set(), [te]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current._str = "(message withheld from the log)"
        stack.extend(c for c in (current.__cause__, current.__context__) if c is not None)
        for group_member in getattr(current, "exceptions", None) or ():
            stack.append(group_member)
    return redact("".join(te.format()).rstrip("\n"))


_installed = False


def install_redaction() -> None:
    """Every LogRecord created in this process is redacted at birth (all loggers, all handlers)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = format_traceback_without_messages(record.exc_info)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def new_incident_id() -> str:
    """Eight hex digits with at least one letter: an all-digit id (one in 43) is a long digit run, which
    redaction would replace in the very log line that must let an admin find it."""
    while (incident := secrets.token_hex(4).upper()).isdigit():
        pass
    return incident


def _log_exception(app, exc_info):
    """Replaces Flask's log_exception: one line with an incident id, the traceback in the log only."""
    incident = new_incident_id()
    g.incident_id = incident
    user = _user_id()
    app.logger.error("incident %s: unhandled error in %s %s (user=%s)", incident, request.method,
                     request.endpoint, user, exc_info=exc_info)


def _internal_error(error):
    from flask_babel import gettext as _

    from crm.web import is_htmx
    incident = g.get("incident_id") or new_incident_id()
    message = _("Something went wrong on our side. Please try again.")
    reference = _("If it happens again, tell your administrator this incident number: %(id)s", id=incident)
    if is_htmx() or request.headers.get("HX-Request") == "true":
        return f"{message} {reference}", 500, {"X-Incident-Id": incident}
    return render_template("errors/error.html", status=500, message=message, description=reference,
                           incident=incident), 500, {"X-Incident-Id": incident}


def _user_id():
    from flask_login import current_user
    try:
        return current_user.id if current_user.is_authenticated else None
    except Exception:  # noqa: BLE001 - logging must never fail the request
        return None


def _log_denials(response):
    if response.status_code in (401, 403, 404) and request.endpoint != "static":
        current_app.logger.warning("denied %s %s status=%s user=%s", request.method, request.endpoint,
                                   response.status_code, _user_id())
    return response


def init_app(app):
    install_redaction()
    app.log_exception = lambda exc_info: _log_exception(app, exc_info)
    app.register_error_handler(500, _internal_error)
    app.after_request(_log_denials)
    if app.logger.level == logging.NOTSET:
        app.logger.setLevel(logging.INFO)
