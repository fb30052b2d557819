"""Forms shown blank, rendered once: the case file's note, status, follow-up, referral and check forms.

A case file shows five forms before anything is typed. Building them (Flask-WTF, ~12 fields) and writing their
controls through WTForms was about a fifth of the page's CPU (issue 10, bench/FINDINGS.md), for HTML that is the
same on every view but for the CSRF token (and the status form's version). So a view passes ``Blank(FormClass)``
instead of a form, and the template wraps the form's controls in a call block::

    {% call(f) blank_form(note_form) %}{{ f.csrf_token }} ... {{ field(f.body, rows=3) }}{% endcall %}

Given a real form (typed values, errors) ``blank_form`` simply renders the block with it. Given a ``Blank`` it
renders the block once per language, day (date fields default to today), CSRF setting and the blank's values
with a real form of that class, keeps the HTML with the request's CSRF token taken out, and on later views puts
this request's token (and the ``varying`` values) back: the same HTML, labels, ids and token as WTForms writes.

The block may depend on the form only (not on the member, the user or the URL): its output is shared by every
request with the same key. Put the ``<form action=...>`` tag outside it.
"""

from flask import current_app
from markupsafe import Markup, escape

from crm import clock

#: Kept HTML per application; cleared when it reaches this size (a key per form, language, day and values).
MAX_KEPT = 256
_TOKEN = "__blank_form_csrf_token__"


class Blank:
    """A form not built yet: ``form_class(formdata=None, **values, **varying)`` followed by ``prepare(form)``.

    ``values`` are part of the kept HTML's key (a select's chosen option); ``varying`` are written into the HTML
    on every view (a record's version in a hidden field). ``prepare`` must be a module-level function (it is part
    of the key). A Blank has no errors and is true, as a fresh form is in the templates' tests."""

    errors: dict = {}

    def __init__(self, form_class, prepare=None, *, varying: dict | None = None, **values):
        self.form_class, self.prepare, self.values, self.varying = form_class, prepare, values, varying or {}

    def render(self, caller) -> Markup:
        from flask_wtf.csrf import generate_csrf

        from crm.web import select_locale

        csrf = current_app.config.get("WTF_CSRF_ENABLED", True)
        key = (getattr(caller, "_func", caller).__code__, self.form_class, self.prepare,
               tuple(sorted(self.values.items())), tuple(sorted(self.varying)), select_locale(), clock.today(), csrf)
        kept = current_app.extensions.setdefault("crm.blankforms", {})
        html = kept.get(key)
        if html is None:
            form = self.form_class(formdata=None, **self.values, **{k: _mark(k) for k in self.varying})
            if self.prepare is not None:
                self.prepare(form)
            html = str(caller(form))
            if csrf:
                html = html.replace(generate_csrf(), _TOKEN)
            if len(kept) >= MAX_KEPT:
                kept.clear()
            kept[key] = html
        if csrf:
            html = html.replace(_TOKEN, generate_csrf())
        for name, value in self.varying.items():
            html = html.replace(_mark(name), str(escape(value)))
        return Markup(html)


def _mark(name: str) -> str:
    return f"__blank_form_{name}__"


def blank_form(form, caller) -> Markup:
    """The Jinja global of the call block (see the module's docstring): ``caller(form)``, kept for a Blank."""
    if isinstance(form, Blank):
        return form.render(caller)
    return caller(form)
