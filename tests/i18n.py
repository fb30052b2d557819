"""Messages as the pages show them: translated into the default language (Chinese), and HTML-escaped."""

from flask_babel import gettext
from markupsafe import escape


def text(msgid: str, **variables) -> str:
    """``msgid`` in the default language (needs an app context, which the ``db`` fixture holds)."""
    return gettext(msgid, **variables)


def msg(msgid: str, **variables) -> str:
    """``msgid`` as it appears in HTML."""
    return str(escape(text(msgid, **variables)))
