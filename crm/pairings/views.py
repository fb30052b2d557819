"""Pairing pages: detail, board, inbox, proposal."""

from crm.pairings import models  # noqa: F401
