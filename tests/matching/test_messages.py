"""Every reason the engine can give has words, in English and Chinese."""

import pytest
from flask_babel import force_locale

from crm.matching import messages
from crm.matching.filters import FILTER_NAMES
from crm.matching.reasons import Reason

PARAMS = {"count": 1, "limit": 1, "age": 40, "min": 3, "max": 35, "districts": ("杭州市/西湖区",), "height": 150,
          "interests": ("skiing", "hiking"), "city": "杭州市", "other": "北京市", "district": "西湖区",
          "member_fit": 0.9, "candidate_fit": 0.3}


@pytest.mark.parametrize("code", FILTER_NAMES)
@pytest.mark.parametrize("side", ["candidate", "member"])
def test_every_filter_has_a_message_on_either_side(app, code, side):
    with app.test_request_context():
        text = messages.filter_message(Reason(code, PARAMS, side))
    assert text != code and "%(" not in text


@pytest.mark.parametrize("code", sorted(messages.SCORE_MESSAGES))
def test_every_score_reason_has_words(app, code):
    with app.test_request_context():
        assert "%(" not in messages.score_message(Reason(code, PARAMS))


def test_interests_are_listed_by_label_in_the_users_language(app):
    reasons = [Reason("shared_interests", {"interests": ("skiing", "hiking")}), Reason("same_settle_city",
                                                                                      {"city": "杭州市"})]
    with app.test_request_context(), force_locale("en"):
        line = messages.sentence(reasons)
    assert "Skiing" in line and "Hiking" in line and "杭州市" in line
