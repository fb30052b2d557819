"""The suggestions panel: candidate views without identity, reasons, narrowing, "why not?",
proposing through the pipeline, and a cache that can never show someone no longer eligible."""


import pytest

from crm.extensions import db
from crm.matching import service
from crm.members.models import Gender, MaritalHistory
from crm.pairings.models import Pairing, Source
from tests.factories import make_member, make_user

MARKERS = ("秘密姓名甲", "13912340007", "wxMARKER77", "标记雇主公司", "110101199001011234")


@pytest.fixture(autouse=True)
def fresh_cache():
    service.reset()
    yield
    service.reset()


@pytest.fixture(autouse=True)
def english(client):
    """The page texts below are the English ones, whatever the catalogue translates."""
    with client.session_transaction() as session:
        session["lang"] = "en"


def _candidate(owner, **kw):
    fields = dict(owner=owner, gender=Gender.FEMALE, name=MARKERS[0], phone=MARKERS[1], wechat_id=MARKERS[2],
                  employer=MARKERS[3], interests=["skiing", "hiking"], settle_city="杭州市")
    fields.update(kw)
    return make_member(**fields)


@pytest.fixture
def scene(login_as):
    vol = login_as("volunteer")
    other_vol = make_user("volunteer", branch=vol.branch)
    a = make_member(owner=vol, gender=Gender.MALE, name="李明", interests=["skiing", "hiking", "tea"],
                    settle_city="杭州市", pref_age_min=25, pref_age_max=35)
    b = _candidate(other_vol)
    db.session.commit()
    return vol, a, b


def test_panel_lists_candidates_with_reasons_and_no_identifying_field(client, scene):
    vol, a, b = scene
    page = client.get(f"/members/{a.id}/suggestions")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"no. {b.id}" in html or str(b.id) in html
    for marker in MARKERS:
        assert marker not in html
    assert "Skiing" in html or "滑雪" in html
    assert 'name="source" value="suggestion"' in html
    fragment = client.get(f"/members/{a.id}/suggestions", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="suggestion-results"' in fragment
    for marker in MARKERS:
        assert marker not in fragment


def test_case_file_links_to_the_panel(client, scene):
    vol, a, b = scene
    assert f"/members/{a.id}/suggestions" in client.get(f"/members/{a.id}").get_data(as_text=True)


def test_ineligible_members_are_not_suggested(client, scene):
    vol, a, b = scene
    hidden = [_candidate(vol, opt_out_suggestions=True), _candidate(vol, verified=False),
              _candidate(vol, gender=Gender.MALE), _candidate(vol, marital_history=MaritalHistory.DIVORCED,
                                                                children_count=1)]
    db.session.commit()
    html = client.get(f"/members/{a.id}/suggestions").get_data(as_text=True)
    assert f'name="member_id" value="{b.id}"' in html
    for m in hidden:
        assert f'name="member_id" value="{m.id}"' not in html


def test_narrowing_by_district_and_age(client, scene):
    vol, a, b = scene
    url = f"/members/{a.id}/suggestions"
    assert f'value="{b.id}"' in client.get(url, query_string={"district": "杭州市/西湖区"}).get_data(as_text=True)
    assert f'value="{b.id}"' not in client.get(url, query_string={"district": "北京市/海淀区"}).get_data(as_text=True)
    assert f'value="{b.id}"' not in client.get(url, query_string={"age_min": 40}).get_data(as_text=True)
    bad = client.get(url, query_string={"age_min": 40, "age_max": 30})
    assert bad.status_code == 422 and 'value="40"' in bad.get_data(as_text=True)
    assert client.get(url, query_string={"district": "火星/某区"}).status_code == 422


def test_why_not_names_the_first_failing_filter(client, scene):
    vol, a, b = scene
    opted = _candidate(vol, opt_out_suggestions=True, birth_date=b.birth_date.replace(year=1970))
    db.session.commit()
    html = client.get(f"/members/{a.id}/why-not", query_string={"other": opted.id}).get_data(as_text=True)
    assert "opted out" in html and "age" not in html.split("why-answer")[1][:300]
    html = client.get(f"/members/{a.id}/why-not", query_string={"other": b.id}).get_data(as_text=True)
    assert "No hard filter excludes this pair" in html
    fragment = client.get(f"/members/{a.id}/why-not", query_string={"other": b.id},
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "No hard filter" in fragment


def test_why_not_hides_status_of_members_the_user_cannot_open_and_unknown_numbers(client, scene):
    vol, a, b = scene
    b.opt_out_suggestions = True
    elsewhere = _candidate(make_user("volunteer"))  # another, unrelated branch
    db.session.commit()
    html = client.get(f"/members/{a.id}/why-not", query_string={"other": b.id}).get_data(as_text=True)
    assert "not available for suggestions" in html and "opted out" not in html
    for other in (elsewhere.id, 999999, 2 ** 31, 10 ** 12):
        page = client.get(f"/members/{a.id}/why-not", query_string={"other": other})
        assert page.status_code == 422 and "There is no candidate with this number" in page.get_data(as_text=True)
    assert client.get(f"/members/{a.id}/why-not", query_string={"other": "x"}).status_code == 422


def test_proposing_from_a_suggestion_starts_a_pairing_and_removes_the_candidate(client, scene, csrf):
    vol, a, b = scene
    assert f'value="{b.id}"' in client.get(f"/members/{a.id}/suggestions").get_data(as_text=True)
    response = client.post(f"/pairings/propose/{a.id}",
                           data={"csrf_token": csrf(), "member_id": b.id, "source": "suggestion"})
    assert response.status_code == 302
    pairing = db.session.scalars(db.select(Pairing)).one()
    assert pairing.source is Source.SUGGESTION and pairing.involves(b)
    assert f'value="{b.id}"' not in client.get(f"/members/{a.id}/suggestions").get_data(as_text=True)


def test_a_stale_cache_cannot_suggest_someone_no_longer_eligible(client, scene, monkeypatch):
    vol, a, b = scene
    assert f'value="{b.id}"' in client.get(f"/members/{a.id}/suggestions").get_data(as_text=True)
    # the change is seen through the stamp ...
    b.opt_out_suggestions = True
    db.session.commit()
    assert f'value="{b.id}"' not in client.get(f"/members/{a.id}/suggestions").get_data(as_text=True)
    # ... and even an index that missed it is re-checked against fresh rows
    b.opt_out_suggestions = False
    db.session.commit()
    assert f'value="{b.id}"' in client.get(f"/members/{a.id}/suggestions").get_data(as_text=True)
    index = service.current_index()
    b.opt_out_suggestions = True
    db.session.commit()
    monkeypatch.setattr(service, "current_index", lambda: index)
    assert f'value="{b.id}"' not in client.get(f"/members/{a.id}/suggestions").get_data(as_text=True)


def test_only_the_members_caretakers_may_ask(client, login_as):
    login_as("volunteer")
    someone_else = make_user("volunteer")
    a = make_member(owner=someone_else, gender=Gender.MALE)
    b = _candidate(someone_else)
    db.session.commit()
    assert client.get(f"/members/{a.id}/suggestions").status_code in (403, 404)
    assert client.get(f"/members/{a.id}/why-not", query_string={"other": b.id}).status_code in (403, 404)


def test_statement_count_does_not_grow_with_candidates(client, scene, count_queries):
    vol, a, b = scene
    client.get(f"/members/{a.id}/suggestions")
    with count_queries() as few:
        client.get(f"/members/{a.id}/suggestions")
    for _ in range(15):
        _candidate(make_user("volunteer", branch=vol.branch))
    db.session.commit()
    client.get(f"/members/{a.id}/suggestions")
    with count_queries() as many:
        html = client.get(f"/members/{a.id}/suggestions").get_data(as_text=True)
    assert html.count('name="source" value="suggestion"') == 16
    assert len(many) == len(few) <= 5  # case file, index stamp, candidate rows, pairings (+ session)


def test_the_cached_index_follows_profile_and_pairing_changes_in_place(app, client, scene, csrf):
    vol, a, b = scene
    client.get(f"/members/{a.id}/suggestions")
    index = service.current_index()
    b.height_cm = 181
    db.session.commit()
    assert service.current_index() is index and index.profiles[b.id].height == 181
    client.post(f"/pairings/propose/{a.id}", data={"csrf_token": csrf(), "member_id": b.id, "source": "suggestion"})
    assert service.current_index() is index
    assert index.profiles[a.id].open_introductions == 1 and b.id in index.paired[a.id]


def test_an_index_built_on_an_empty_database_sees_the_first_members(app, db):
    with app.test_request_context():
        assert len(service.current_index().ids) == 0
        vol = make_user("volunteer")
        a = make_member(owner=vol, gender=Gender.MALE)
        b = _candidate(vol)
        db.session.commit()
        assert [s.number for s in service.suggestions(a)] == [b.id]
