"""Shared web plumbing: page-or-fragment rendering, htmx detection, locale, errors."""

import subprocess
import sys

import click
from flask import current_app, g, has_request_context, render_template, request, session
from flask.cli import AppGroup
from flask_babel import format_datetime
from jinja2_fragments.flask import render_block
from werkzeug.routing import IntegerConverter

from crm.database import MAX_ID


class IdConverter(IntegerConverter):
    """``<int:...>`` URL parts: an id beyond the INTEGER key range is simply not found (SQLite would raise
    OverflowError beyond 64 bits, PostgreSQL "integer out of range" beyond 32)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def is_htmx() -> bool:
    """A partial request: htmx, not a boosted navigation and not a history restore."""
    h = request.headers
    return (h.get("HX-Request") == "true" and h.get("HX-Boosted") != "true"
            and h.get("HX-History-Restore-Request") != "true")


def render(template: str, block: str | None = None, **context):
    """The whole page, or only ``block`` of it when htmx asks for a fragment."""
    g.varies_on_htmx = True
    if block and is_htmx():
        fragment = render_block(template, block, **context)
        if "_flashes" in session:  # what the fragment did not show goes to the page's aria-live region
            fragment += render_template("macros/flash_oob.html")
        return fragment
    return render_template(template, **context)


def select_locale():
    # Services, the CLI and tests translate messages outside any request: use the default there.
    lang = session.get("lang") if has_request_context() else None
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone():
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def _vary_on_htmx(response):
    if g.get("varies_on_htmx"):
        response.vary.add("HX-Request")
    # Cache-Control: no-store and the other security headers: crm.security.
    return response


def _error_page(status):
    def handler(error):
        from flask_babel import gettext as _
        messages = {403: _("You do not have access to this page."), 404: _("This page does not exist."),
                    400: _("The request could not be understood."), 405: _("This action is not allowed here."),
                    500: _("Something went wrong on our side. Please try again.")}
        description = getattr(error, "description", None) if status != 500 else None
        if description == getattr(type(error), "description", None):
            description = None  # werkzeug's stock English sentence, not one the app wrote: use ours
        if is_htmx():
            return description or messages[status], status
        if request.headers.get("HX-Boosted") == "true" and request.method == "GET":
            # htmx does not swap error responses, so a boosted link would do nothing at all: load it for real.
            return "", status, {"HX-Redirect": request.full_path.rstrip("?")}
        return render_template("errors/error.html", status=status, message=messages[status],
                               description=description), status
    return handler


# Punctuation that templates put between a label and data: full-width in Chinese, ASCII in English.
PUNCTUATION = {
    "zh": {"colon": "：", "list": "、", "separator": "；", "sentence": "", "open": "（", "close": "）"},
    "en": {"colon": ": ", "list": ", ", "separator": "; ", "sentence": " ", "open": " (", "close": ")"},
}


def punctuation() -> dict[str, str]:
    return PUNCTUATION["zh" if select_locale().startswith("zh") else "en"]


class _Punctuation:
    """``{{ punct.colon }}`` in the request's language; a Jinja global, so macros imported without context see it."""

    def __getattr__(self, name):
        if name not in PUNCTUATION["en"]:
            raise AttributeError(name)
        return punctuation()[name]


def _template_helpers():
    from crm.auth import policy
    from crm.auth.models import Role
    from crm.members import vocab
    return {"policy": policy, "Role": Role, "vocab": vocab, "is_htmx": is_htmx, "locale": select_locale(),
            "languages": current_app.config["LANGUAGES"]}


def init_app(app):
    app.after_request(_vary_on_htmx)
    app.context_processor(_template_helpers)
    app.jinja_env.globals["punct"] = _Punctuation()
    from crm.menu import main_menu
    app.jinja_env.globals["main_menu"] = main_menu  # base.html's menu, cached per role set and language
    from crm.formfield import render_field
    app.jinja_env.globals["render_field"] = render_field  # the body of macros/forms.html's field()
    from crm.blankforms import blank_form
    app.jinja_env.globals["blank_form"] = blank_form  # blank forms' controls rendered once (crm/blankforms.py)
    from crm import i18n
    i18n.init_app(app)  # memoized catalogue per request, fast template gettext, the |date filter
    from crm import widgets
    widgets.install()  # <select> options written directly, same HTML as WTForms'
    app.jinja_env.filters["datetime"] = lambda d, fmt="short": format_datetime(d, fmt) if d else ""
    for status in (400, 403, 404, 405, 500):
        app.register_error_handler(status, _error_page(status))
    # An expired CSRF token: crm.security.csrf_error (the form comes back with what was typed).


translate = AppGroup("translate", help="Extract, update and compile the translation catalogues.")


def _pybabel(*args):
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True)


@translate.command("update")
def translate_update():
    """Extract messages and merge them into every catalogue."""
    _pybabel("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "--no-location",
             "-o", "messages.pot", ".")
    _pybabel("update", "-i", "messages.pot", "-d", "crm/translations", "--no-fuzzy-matching")


@translate.command("compile")
def translate_compile():
    """Compile the catalogues into .mo files."""
    _pybabel("compile", "-d", "crm/translations")


@translate.command("init")
@click.argument("lang")
def translate_init(lang):
    """Start a catalogue for a new language."""
    _pybabel("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "--no-location",
             "-o", "messages.pot", ".")
    _pybabel("init", "-i", "messages.pot", "-d", "crm/translations", "-l", lang)
