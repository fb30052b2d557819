"""Optimistic-locking conflicts, one small component for every edit view.

A versioned record (``version_id_col``) saved by someone else after the user opened it refuses the stale
save. The view then shows both versions side by side (macro ``conflict`` in templates/macros/conflict.html)
and the form again with the user's values and the CURRENT version number, so that saving once more
re-applies the user's version over the saved one, knowingly.

    rows = conflict_rows(form, saved_values)          # saved_values: {field name: stored value}
    form.version.data = str(record.version)           # the next save re-applies
    render(..., conflict=rows)                        # {{ conflict(conflict) }} in the template
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from flask_babel import gettext as _

SKIPPED = ("csrf_token", "version")


@dataclass(frozen=True)
class ConflictRow:
    name: str
    label: str
    yours: str
    saved: str

    @property
    def differs(self) -> bool:
        return self.yours != self.saved


def _display(field, value) -> str:
    if isinstance(value, Enum):
        value = value.value
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    choices = getattr(field, "choices", None)
    if choices and not callable(choices):
        for choice in choices:
            key, label = (choice.value, choice.label) if hasattr(choice, "value") else (choice[0], choice[1])
            if str(key) == str(value):
                return str(label)
    if isinstance(value, (list, tuple, set)):
        return ", ".join(_display(field, v) for v in value) or "—"
    return str(value)


def conflict_rows(form, saved: dict, only_differences: bool = True) -> list[ConflictRow]:
    """The form's fields with the user's value and the stored one, in form order (differences only)."""
    rows = []
    for field in form:
        if field.name in SKIPPED or field.name not in saved or field.type in ("CSRFTokenField", "SubmitField"):
            continue
        rows.append(ConflictRow(field.name, str(field.label.text), _display(field, field.data),
                                _display(field, saved[field.name])))
    return [r for r in rows if r.differs] if only_differences else rows
