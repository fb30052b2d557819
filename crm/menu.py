"""The main menu of base.html, built once per (roles, language, script root) in each process.

Every page drew the menu item by item: about 15 ``url_for`` and 12 ``route_allows`` checks and as many gettext
calls, ~1.5 ms CPU of every request. What it shows depends only on the user's role set (``route_allows`` reads
nothing else), the language and where the application is mounted, so the finished HTML is kept per app and key
and reused; a new ROUTE_ACCESS or catalogue needs a new process anyway. The HTML is the one the template wrote.
"""

from flask import current_app, request, url_for
from markupsafe import Markup

from crm.auth import policy
from crm.auth.models import Role

# (endpoint, label msgid, gate): gate None = shown when route_allows(user, endpoint); "volunteer" = the user has
# the volunteer role; another endpoint = shown when route_allows(user, that endpoint) (the introduction pages go
# together with the board).
ITEMS = (
    ("members.index", "My cases", "volunteer"),
    ("members.search", "Members", None),
    ("pairings.board", "Introductions", None),
    ("pairings.inbox", "Waiting for my answer", "pairings.board"),
    ("followups.index", "Follow-ups", None),
    ("events.index", "Events", None),
    ("members.team", "Team", None),
    ("intake.queue", "Self-registrations", None),
    ("stats.dashboard", "Statistics", None),
    ("counselling.home", "Counselling", None),
    ("counselling.alerts", "Risk alerts", None),
    ("admin.users", "Users", None),
    ("matching.weights", "Suggestion weights", None),
    ("audit.index", "Audit log", None),
)


def _shown(user, endpoint, gate) -> bool:
    if gate == "volunteer":
        return user.has_role(Role.VOLUNTEER)
    return policy.route_allows(user, gate or endpoint)


def _build(user) -> Markup:
    from crm.i18n import gettext

    return Markup("\n        ").join(
        Markup('<li><a href="{}">{}</a></li>').format(url_for(endpoint), gettext(msgid))
        for endpoint, msgid, gate in ITEMS if _shown(user, endpoint, gate))


def main_menu(user, locale) -> Markup:
    """The ``<li>`` items of the main menu for ``user`` (signed in) in ``locale``."""
    cache = current_app.extensions.setdefault("queqiao.menu", {})
    key = (user.roles.value, locale, request.script_root)
    html = cache.get(key)
    if html is None:
        html = cache[key] = _build(user)
    return html


def _msgids():  # pragma: no cover - only for message extraction: the labels above are msgids
    from crm.i18n import gettext as _
    return (_("My cases"), _("Members"), _("Introductions"), _("Waiting for my answer"), _("Follow-ups"),
            _("Events"), _("Team"), _("Self-registrations"), _("Statistics"), _("Counselling"), _("Risk alerts"),
            _("Users"), _("Suggestion weights"), _("Audit log"))

