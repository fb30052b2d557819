"""The batch print form: a selection of pairings (checkboxes named ``pairing_id``)."""

from flask_wtf import FlaskForm

#: The most pairings one batch prints (2 pages each); a bigger batch would hold a worker for long.
MAX_BATCH = 100


class BatchForm(FlaskForm):
    """Only the CSRF token is a field: the checked ids arrive as repeated ``pairing_id`` values."""

    def pairing_ids(self, raw_values) -> list[int]:
        ids = []
        for raw in raw_values:
            raw = (raw or "").strip()
            if raw.isascii() and raw.isdigit() and len(raw) <= 18:
                ids.append(int(raw))
        return list(dict.fromkeys(ids))
