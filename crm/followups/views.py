"""Follow-up pages and the calendar feed."""

from crm.followups import models  # noqa: F401
