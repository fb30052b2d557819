"""The batch print form: a selection of pairings (checkboxes named ``pairing_id``)."""

from flask_wtf import FlaskForm

from crm.database import as_id

#: The most pairings one batch prints (2 cards each, ~100 cards): a bigger one holds a sync worker too long.
MAX_BATCH = 50


class BatchForm(FlaskForm):
    """Only the CSRF token is a field: the checked ids arrive as repeated ``pairing_id`` values."""

    def pairing_ids(self, raw_values) -> list[int]:
        ids = [as_id(raw) for raw in raw_values]
        return list(dict.fromkeys(i for i in ids if i is not None))
