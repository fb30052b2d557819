"""Demo self-registrations for `flask seed-demo`: a few applications waiting in each branch's queue,
one of them a duplicate of an existing member (same phone)."""

from datetime import date, timedelta

from flask import current_app

from crm.clock import now_utc
from crm.extensions import db
from crm.intake.models import IntakeApplication
from crm.members.models import Education, Gender, MaritalHistory, id_number_hash
from crm.privacy.texts import current_versions
from crm.validators import _ID_CHECK, _ID_WEIGHTS

APPLICANTS = [
    ("陈思雨", Gender.FEMALE, date(1996, 4, 18), "13757110021", "杭州市第一人民医院", "healthcare", Education.BACHELOR,
     "杭州市/上城区", "杭州市/上城区", ["yoga", "reading"], "护士，周末喜欢做瑜伽。"),
    ("周浩然", Gender.MALE, date(1992, 9, 3), "13957110022", "杭州地铁运营分公司", "transport", Education.ASSOCIATE,
     "杭州市/余杭区", "杭州市/临平区", ["basketball", "fishing"], None),
    ("林晓婷", Gender.FEMALE, date(1994, 12, 25), "15857110023", "杭州市滨江区实验小学", "education", Education.MASTER,
     "杭州市/滨江区", "杭州市/滨江区", ["baking", "travel", "photography"], "小学老师，性格开朗。"),
    ("吴俊杰", Gender.MALE, date(1990, 6, 30), "18657110024", "海康威视", "it", Education.BACHELOR,
     "杭州市/滨江区", "杭州市/西湖区", ["running", "board_games"], None),
]


def _resident_id(area: str, born: date, seq: int) -> str:
    body = f"{area}{born:%Y%m%d}{seq:03d}"
    return body + _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def seed_intake(rng, branches, members):
    """Four fresh applications spread over the branches, and one duplicating the first member's phone."""
    secret = current_app.config["SECRET_KEY"]
    versions = current_versions()
    rows = list(APPLICANTS)
    if members:
        m = members[0]
        rows.append((m.name, m.gender, m.birth_date, m.phone, m.employer, m.occupation_category, m.education,
                     f"{m.work_city}/{m.work_district}", f"{m.home_city}/{m.home_district}", [], None))
    for i, row in enumerate(rows):
        name, gender, born, phone, employer, occupation, education, work, home, interests, intro = row
        number = _resident_id("330106", born, 100 + i)
        sharing = i % 3 != 2
        application = IntakeApplication(
            branch_id=branches[i % len(branches)].id if i < len(APPLICANTS) else members[0].branch_id,
            name=name, gender=gender, birth_date=born, phone=phone, id_last4=number[-4:],
            id_hash=id_number_hash(secret, number), employer=employer, occupation_category=occupation,
            education=education, marital_history=MaritalHistory.NEVER, height_cm=rng.randint(155, 182),
            work_city=work.split("/")[0], work_district=work.split("/")[1], home_city=home.split("/")[0],
            home_district=home.split("/")[1], self_intro=intro, interests=interests,
            consent_processing=True, consent_sharing=sharing, consent_photo=i % 2 == 0,
            consent_versions={k: v for k, v in versions.items()
                              if k == "processing" or (k == "sharing" and sharing) or (k == "photo" and i % 2 == 0)},
            duplicate_member_id=members[0].id if i >= len(APPLICANTS) else None,
            submitted_at=now_utc() - timedelta(hours=5 * (i + 1)),
        )
        db.session.add(application)
    db.session.flush()
