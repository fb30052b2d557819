import re
from datetime import date, timedelta

import pytest
from flask_babel import ngettext
from markupsafe import escape

from crm.clock import today
from crm.members.models import Gender, MemberStatus
from crm.members.pinyin import name_keys
from tests import factories


def _names(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return re.findall(r'<a href="/members/\d+">([^<]+)</a>', response.get_data(as_text=True))


def _born(age: int) -> date:
    """A birth date whose birthday is half a year from today, so the member is `age` on any day of the year."""
    half_a_year_ago = today() - timedelta(days=182)
    if (half_a_year_ago.month, half_a_year_ago.day) == (2, 29):
        half_a_year_ago -= timedelta(days=1)
    return half_a_year_ago.replace(year=half_a_year_ago.year - age)


@pytest.fixture
def branch_people(db):
    branch = factories.make_branch()
    people = {"supervisor": factories.make_user("supervisor", branch=branch),
              "li": factories.make_user("volunteer", branch=branch, display_name="李志愿"),
              "wu": factories.make_user("volunteer", branch=branch, display_name="吴志愿")}
    li, wu = people["li"], people["wu"]
    factories.make_member(owner=li, name="张伟", phone="13800001234", gender=Gender.MALE, birth_date=_born(30))
    factories.make_member(owner=li, name="张娜", phone="13800005678", birth_date=_born(25),
                          status=MemberStatus.PAUSED)
    factories.make_member(owner=wu, name="王伟", phone="13900001234", gender=Gender.MALE, birth_date=_born(40),
                          work_district="滨江区")
    factories.make_member(owner=wu, name="曾小燕", phone="13700009999", birth_date=_born(35))
    factories.make_member(owner=None, branch=branch, name="欧阳娜娜", phone="13600002468", birth_date=_born(28))
    factories.make_member(owner=None, branch=branch, name="Anna·李", phone="13600001357", birth_date=_born(50),
                          status=MemberStatus.CLOSED)
    # Another branch's member, which nobody here may find.
    factories.make_member(owner=factories.make_user("volunteer"), name="张伟", phone="13500001234")
    db.session.commit()
    return people


@pytest.mark.parametrize(("query", "expected"), [
    ({"q": "张"}, {"张伟", "张娜"}),
    ({"q": "张伟"}, {"张伟"}),
    ({"q": "伟"}, {"张伟", "王伟"}),
    ({"q": "zhang"}, {"张伟", "张娜"}),
    ({"q": "ZhangWei"}, {"张伟"}),
    ({"q": "zhang wei"}, {"张伟"}),
    ({"q": "zw"}, {"张伟"}),
    ({"q": "z"}, {"张伟", "张娜", "曾小燕"}),
    ({"q": "zeng"}, {"曾小燕"}),
    ({"q": "zxy"}, {"曾小燕"}),
    ({"q": "ouyang"}, {"欧阳娜娜"}),
    ({"q": "anna"}, {"Anna·李"}),
    ({"q": "1234"}, {"张伟", "王伟"}),
    ({"q": "5678"}, {"张娜"}),
    ({"q": "13800005678"}, {"张娜"}),
    ({"q": "５６７８"}, {"张娜"}),  # full-width, as a Chinese input method types it
    ({"q": "ｚｈａｎｇ"}, {"张伟", "张娜"}),
    ({"q": "%"}, set()),
    ({"q": "_"}, set()),
    ({"q": "张%"}, set()),
    ({"q": "'; DROP TABLE members; --"}, set()),
    ({"status": "paused"}, {"张娜"}),
    ({"gender": "male"}, {"张伟", "王伟"}),
    ({"age_min": "29", "age_max": "36"}, {"张伟", "曾小燕"}),
    ({"age_min": "36"}, {"王伟", "Anna·李"}),
    ({"district": "杭州市/滨江区"}, {"王伟"}),
    ({"owner": "pool"}, {"欧阳娜娜", "Anna·李"}),
    ({"status": "closed"}, {"Anna·李"}),
    ({"q": "zhang", "status": "active"}, {"张伟"}),
    ({}, {"张伟", "张娜", "王伟", "曾小燕", "欧阳娜娜", "Anna·李"}),
])
def test_a_supervisor_searches_the_branch(client, login_as, branch_people, query, expected):
    login_as(branch_people["supervisor"])
    names = _names(client.get("/members/search", query_string=query, headers={"HX-Request": "true"}))
    assert sorted(names) == sorted(expected)


def test_the_owner_filter(client, login_as, branch_people):
    login_as(branch_people["supervisor"])
    names = _names(client.get("/members/search", query_string={"owner": branch_people["wu"].id}))
    assert sorted(names) == sorted(["王伟", "曾小燕"])


@pytest.mark.parametrize("owner", ["²", "１２", "-1", "abc", "9" * 40])
def test_a_strange_owner_filter_finds_nothing_and_does_not_fail(client, login_as, branch_people, owner):
    login_as(branch_people["supervisor"])
    assert _names(client.get("/members/search", query_string={"owner": owner})) == []


@pytest.mark.parametrize("query", [{"age_min": "abc"}, {"age_min": "5"}, {"page": "0"}, {"page": "x"},
                                   {"status": "nonsense"}, {"q": "a\x00b"}, {"q": "长" * 500},
                                   {"district": "火星/环形山"}, {"page": "999999999999999999999"}])
def test_invalid_filters_never_fail(client, login_as, branch_people, query):
    login_as(branch_people["supervisor"])
    response = client.get("/members/search", query_string=query)
    assert response.status_code == 200


def test_a_volunteer_only_ever_finds_their_own_members(client, login_as, branch_people):
    login_as(branch_people["li"])
    for query in ({}, {"q": "张"}, {"q": "1234"}, {"owner": branch_people["wu"].id}, {"owner": "pool"},
                  {"q": "zeng"}, {"gender": "male"}):
        names = set(_names(client.get("/members/search", query_string=query)))
        assert names <= {"张伟", "张娜"}, query
    assert sorted(_names(client.get("/members/"))) == ["张伟", "张娜"]


def test_results_are_paged(app, client, login_as, monkeypatch, db):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    volunteer = factories.make_user("volunteer")
    for i in range(5):
        factories.make_member(owner=volunteer, name=f"张{'一二三四五'[i]}")
    db.session.commit()
    login_as(volunteer)
    pages = [_names(client.get("/members/search", query_string={"q": "zhang", "page": p})) for p in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [2, 2, 1, 0]
    assert len({n for p in pages for n in p}) == 5
    page = client.get("/members/search", query_string={"q": "zhang", "page": 2}).get_data(as_text=True)
    assert "page=1" in page and "page=3" in page and "q=zhang" in page
    assert str(escape(ngettext("%(num)d member", "%(num)d members", 5))) in page


@pytest.mark.parametrize(("name", "pinyin", "initials"), [
    ("曾小燕", "zengxiaoyan", "zxy"), ("单田芳", "shantianfang", "stf"), ("张伟", "zhangwei", "zw"),
    ("欧阳娜娜", "ouyangnana", "oynn"), ("解晓东", "xiexiaodong", "xxd"), ("Anna·李", "annali", "al"),
    ("阿依古丽·买买提", "ayigulimaimaiti", "ayglmmt"), ("Zoë O'Brien", "zoobrien", "zob"),
])
def test_name_keys_read_surnames_as_surnames(name, pinyin, initials):
    assert name_keys(name) == (pinyin, initials)
