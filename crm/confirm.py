"""A confirmation step for destructive actions that works without JavaScript.

The action's form carries ``hx-confirm="…"`` and ``hx-vals='{"confirmed": "1"}'``: with JavaScript the
browser's dialog asks, and htmx sends ``confirmed=1``. Without JavaScript the POST arrives without it,
and the view answers with :func:`confirmation_page`: the question, what will happen, and a form that
sends the same fields again with ``confirmed=1`` (and a fresh CSRF token), or a way back. Nothing is
written until then.
"""

from flask import request

from crm.web import render

CONFIRMED = "confirmed"


def confirmed() -> bool:
    return request.form.get(CONFIRMED) == "1"


def confirmation_page(*, title: str, message: str, button: str, back_url: str, status: int = 200):
    fields = [(name, value) for name, value in request.form.items(multi=True)
              if name not in ("csrf_token", CONFIRMED)]
    return render("confirm.html", title=title, message=message, button=button, back_url=back_url,
                  fields=fields, action=request.path), status
