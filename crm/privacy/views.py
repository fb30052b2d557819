"""Photos, consents, export and erasure of one member."""

from crm.privacy import bp, services  # noqa: F401
