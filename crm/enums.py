"""Enumerations whose members carry their display label in one place."""

import enum

from sqlalchemy import Integer
from sqlalchemy.types import TypeDecorator


class LabelledEnum(enum.Enum):
    """An enum whose values are stored as strings and whose labels are translatable.

    Subclasses define ``_labels = {member_value: _l("...")}``; ``label`` looks it up.
    """

    @property
    def label(self):
        return type(self)._labels()[self.value]

    @classmethod
    def _labels(cls):
        raise NotImplementedError

    @classmethod
    def choices(cls):
        from wtforms.fields.choices import SelectChoice
        return [SelectChoice(m.value, m.label) for m in cls]


class FlagType(TypeDecorator):
    """Stores an ``enum.Flag`` as its integer value."""

    impl = Integer
    cache_ok = True

    def __init__(self, flag_class):
        super().__init__()
        self.flag_class = flag_class

    def process_bind_param(self, value, dialect):
        return None if value is None else int(getattr(value, "value", value))

    def process_result_value(self, value, dialect):
        return None if value is None else self.flag_class(value)


def values_check(column: str, enum_class) -> str:
    """SQL for a CHECK that ``column`` holds one of the enum's values (enum_type columns are plain strings)."""
    return f"{column} IN ({', '.join(repr(m.value) for m in enum_class)})"


def enum_type(enum_class):
    """A portable column type storing an enum's values (not names) as short strings."""
    from sqlalchemy import Enum

    return Enum(enum_class, native_enum=False, length=24, validate_strings=True,
                values_callable=lambda e: [m.value for m in e])
