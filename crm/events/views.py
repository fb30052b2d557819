"""Mixer event pages: list, create/edit, registrations, door check-in, choices, report, printing."""

from crm.events import bp  # noqa: F401
from crm.events import models  # noqa: F401
