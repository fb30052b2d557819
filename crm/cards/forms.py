"""The batch print form: a selection of pairings (checkboxes named ``pairing_id``)."""

from flask_wtf import FlaskForm

#: The most pairings one batch prints (2 cards each, ~100 cards): a bigger one holds a sync worker too long.
MAX_BATCH = 50


class BatchForm(FlaskForm):
    """Only the CSRF token is a field: the checked ids arrive as repeated ``pairing_id`` values."""

    def pairing_ids(self, raw_values) -> list[int]:
        ids = []
        for raw in raw_values:
            raw = (raw or "").strip()
            if raw.isascii() and raw.isdigit() and len(raw) <= 18:
                ids.append(int(raw))
        return list(dict.fromkeys(ids))
