"""Counselling pages."""
from crm.counselling import models  # noqa: F401
