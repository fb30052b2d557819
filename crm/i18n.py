"""Translation and date formatting on the request path, without Flask-Babel's per-call overhead.

Flask-Babel looks the request's catalogue up again on every gettext call: three or four proxy lookups
(``g``), the locale selector's result, ``str(locale)`` and a dictionary key each time, ~20 µs where the
catalogue lookup itself takes 0.6 µs. A caseload page makes ~130 such calls (labels, enum labels, form
labels), so that overhead was several milliseconds of every page (issue 10, bench/FINDINGS.md).

Here the catalogue is memoized on Flask-Babel's own per-request namespace (``g._flask_babel``), together
with the locale and domain it was chosen for: ``force_locale()`` and ``refresh()`` change those objects,
so a memo made for another locale is never used. Outside a request everything falls back to Flask-Babel.

``format_date`` (the ``|date`` filter) memoizes Babel's formatting per (local date, format, locale):
a 50-row list shows a handful of distinct dates, and each Babel format costs ~60 µs.
"""

from datetime import datetime
from functools import lru_cache

import flask_babel
from flask.globals import _cv_app
from flask_babel import Domain

_MEMO = "crm_translations"


class MemoDomain(Domain):
    """Flask-Babel's domain, with the request's catalogue memoized for the rest of the request."""

    def get_translations(self):
        ctx = _cv_app.get(None)
        ns = ctx.g.__dict__.get("_flask_babel") if ctx is not None else None
        if ns is not None:
            memo = ns.__dict__.get(_MEMO)
            if memo is not None and memo[0] is ns.__dict__.get("babel_locale") and memo[1] is self:
                return memo[2]
        translations = super().get_translations()
        ns = ctx.g.__dict__.get("_flask_babel") if ctx is not None else None
        if ns is not None and ns.__dict__.get("babel_locale") is not None:
            setattr(ns, _MEMO, (ns.babel_locale, self, translations))
        return translations


def translations():
    """The current request's catalogue (what ``flask_babel.get_translations()`` returns), fast."""
    ctx = _cv_app.get(None)
    if ctx is not None:
        ns = ctx.g.__dict__.get("_flask_babel")
        if ns is not None:
            memo = ns.__dict__.get(_MEMO)
            if (memo is not None and memo[0] is ns.__dict__.get("babel_locale")
                    and memo[1] is ns.__dict__.get("babel_domain")):
                return memo[2]
    return flask_babel.get_translations()


def gettext(string, **variables):
    s = translations().ugettext(string)
    return s % variables if variables else s


def ngettext(singular, plural, num, **variables):
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def _jinja_gettext(string):
    return translations().ugettext(string)


def _jinja_ngettext(singular, plural, num):
    return translations().ungettext(singular, plural, num)


def _jinja_pgettext(context, string):
    return translations().upgettext(context, string)


def _jinja_npgettext(context, singular, plural, num):
    return translations().unpgettext(context, singular, plural, num)


@lru_cache(maxsize=4096)
def _formatted_date(day, fmt, locale) -> str:
    from babel.dates import format_date as babel_format_date
    return babel_format_date(day, flask_babel._get_format("date", fmt), locale=locale)


def format_date(value, fmt="medium") -> str:
    """``flask_babel.format_date`` (a datetime is shown as its date in the user's time zone), memoized."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = flask_babel.to_user_timezone(value).date()
    return _formatted_date(value, fmt, flask_babel.get_locale())


def date_formatter(fmt="medium"):
    """``format_date`` for the many dates of one page: the user's time zone and locale are looked up once
    (per date, Flask-Babel's lookups cost more than the conversion itself: ~5 % of the caseload's CPU)."""
    tz = flask_babel.get_timezone()
    locale = flask_babel.get_locale()
    utc = flask_babel.UTC
    normalize = tz.normalize

    def formatted(value) -> str:
        if not value:
            return ""
        if isinstance(value, datetime):
            value = normalize((value.replace(tzinfo=utc) if value.tzinfo is None else value).astimezone(tz)).date()
        return _formatted_date(value, fmt, locale)

    return formatted


@lru_cache(maxsize=16)
def _wtforms_catalogue(locale):
    from babel import support
    from wtforms.i18n import messages_path
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


def _wtforms_translations():
    """Flask-WTF's catalogue of WTForms' own messages, loaded once per locale: Flask-WTF read and parsed
    the .mo file (compiling its plural rule with exec) again in every request that built a form."""
    from flask import has_request_context
    if not has_request_context():
        return None
    return _wtforms_catalogue(flask_babel.get_locale())


def init_app(app):
    """Use the memoizing domain for every gettext (Python, lazy strings, templates) and the fast
    callables in templates. Called after ``babel.init_app``."""
    config = app.extensions["babel"]
    instance = config.instance
    # Babel.domain_instance is a cached_property: the instance's __dict__ holds the domain every request uses.
    instance.__dict__["domain_instance"] = MemoDomain(domain=config.default_domain)
    app.jinja_env.install_gettext_callables(gettext=_jinja_gettext, ngettext=_jinja_ngettext, newstyle=True,
                                            pgettext=_jinja_pgettext, npgettext=_jinja_npgettext)
    app.jinja_env.filters["date"] = format_date
    import flask_wtf.i18n
    flask_wtf.i18n._get_translations = _wtforms_translations  # module-level lookup at each call
