"""`flask seed-demo`: believable Chinese demo data and one login per role."""

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import click
from faker import Faker
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from crm.auth.models import Branch, Role, User
from crm.auth.passwords import hash_password
from crm.clock import now_utc, today
from crm.extensions import db
from crm.members import vocab
from crm.members.models import (
    Assignment,
    Education,
    Gender,
    MaritalHistory,
    Member,
    MemberStatus,
    Note,
    NoteKind,
    Tier,
    id_number_hash,
)
from crm.members.pinyin import name_keys

DEMO_PASSWORD = "queqiao-demo"
DEMO_USERS = [  # username, name, roles, branch index
    ("admin", "周建国", Role.ADMIN, 0),
    ("supervisor", "陈慧敏", Role.SUPERVISOR, 0),
    ("volunteer", "李红梅", Role.VOLUNTEER, 0),
    ("volunteer2", "王志强", Role.VOLUNTEER, 0),
    ("volunteer3", "赵丽娟", Role.VOLUNTEER, 0),
    ("counsellor", "孙静怡", Role.COUNSELLOR, 0),
    ("supervisor2", "刘海涛", Role.SUPERVISOR, 1),
    ("volunteer4", "黄晓燕", Role.VOLUNTEER, 1),
    ("volunteer5", "吴建华", Role.VOLUNTEER | Role.SUPERVISOR, 1),
    ("counsellor2", "郑雅琴", Role.COUNSELLOR, 1),
]
EMPLOYERS = ["杭州市地铁集团", "国网杭州供电公司", "浙江省人民医院", "杭州市第二中学", "阿里巴巴（中国）有限公司",
             "海康威视数字技术股份有限公司", "杭州公交集团", "中国银行杭州分行", "吉利汽车杭州湾工厂", "杭州市市场监督管理局",
             "娃哈哈集团", "杭州钢铁集团", "网易（杭州）网络有限公司", "浙江移动杭州分公司", "杭州市第一人民医院",
             "西湖区教育局", "滨江区城市管理局", "顺丰速运杭州分公司", "杭州银行", "万向集团"]
OCCUPATIONS = {"manufacturing": "装配技师", "engineering": "电气工程师", "it": "软件工程师", "education": "语文教师",
               "healthcare": "护士", "public_service": "科员", "finance": "客户经理", "retail": "店长",
               "transport": "公交驾驶员", "construction": "施工员", "energy": "变电运维员", "other": "行政专员"}
INTROS = ["性格开朗，喜欢周末去爬山，希望找一个能一起运动的人。", "工作稳定，平时喜欢看书做饭，向往简单踏实的生活。",
          "家住杭州，父母都是老师，自己比较顾家，希望对方真诚善良。", "平时爱摄影和旅行，去过很多城市，想找个志同道合的伴侣。",
          "在医院上班，工作比较忙，但很珍惜休息时间，喜欢烘焙和养猫。", "踏实肯干，喜欢打羽毛球，希望另一半性格温和、孝顺父母。"]
NOTE_TEXTS = ["电话回访，了解近期工作情况，会员希望周末参加活动。", "当面沟通择偶要求，补充了兴趣爱好。",
              "微信联系，会员表示最近工作忙，下月再安排见面。", "到单位走访，工会主席证实其单身情况。",
              "会员反馈对上次介绍的对象印象不错，希望继续了解。", "提醒会员更新个人简介和照片。"]


def _id_number(rng: random.Random, born: date, gender: Gender) -> str:
    from crm.validators import _ID_CHECK, _ID_WEIGHTS
    seq = rng.randrange(0, 100) * 10 + rng.choice([1, 3, 5, 7, 9] if gender is Gender.MALE else [0, 2, 4, 6, 8])
    body = f"330106{born:%Y%m%d}{seq:03d}"
    return body + _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def _member(fake: Faker, rng: random.Random, branch, owner, verifier, secret: str, used_phones: set) -> Member:
    gender = rng.choice(list(Gender))
    name = fake.name_male() if gender is Gender.MALE else fake.name_female()
    born = today() - timedelta(days=rng.randint(23 * 365, 42 * 365))
    phone = fake.phone_number()
    while phone in used_phones or not phone.isdigit():
        phone = fake.phone_number()
    used_phones.add(phone)
    id_number = _id_number(rng, born, gender)
    districts = vocab.CITIES[branch.city]
    category = rng.choice(list(vocab.OCCUPATION_CATEGORIES))
    age = (today() - born).days // 365
    pinyin, initials = name_keys(name)
    verified = rng.random() < 0.8
    at = now_utc() - timedelta(days=rng.randint(10, 400))
    member = Member(
        branch=branch, owner=owner, name=name, name_pinyin=pinyin, name_initials=initials, gender=gender,
        birth_date=born, phone=phone, phone_last4=phone[-4:], wechat_id=f"wx_{pinyin[:10]}{rng.randint(10, 999)}",
        id_last4=id_number[-4:], id_hash=id_number_hash(secret, id_number),
        employer=rng.choice(EMPLOYERS), union_name="基层工会委员会", is_union_member=True,
        occupation_category=category, occupation=OCCUPATIONS[category],
        education=rng.choices(list(Education), weights=[1, 3, 5, 8, 3, 1])[0],
        tier=Tier.UNIT if rng.random() < 0.3 else Tier.STANDARD,
        height_cm=rng.randint(168, 188) if gender is Gender.MALE else rng.randint(152, 172),
        hometown=fake.province() + fake.city_name(), work_city=branch.city, work_district=rng.choice(districts),
        home_city=branch.city, home_district=rng.choice(districts),
        settle_city=rng.choice([branch.city, branch.city, None]),
        marital_history=rng.choices(list(MaritalHistory), weights=[85, 13, 2])[0],
        self_intro=rng.choice(INTROS), interests=rng.sample(list(vocab.INTERESTS), rng.randint(3, 6)),
        values_answers={k: rng.randint(1, 5) for k in vocab.VALUES_QUESTIONS},
        pref_age_min=max(20, age - rng.randint(3, 6)), pref_age_max=min(60, age + rng.randint(3, 6)),
        pref_height_min=(150 if gender is Gender.MALE else 165) if rng.random() < 0.5 else None,
        pref_accepts_divorced=rng.random() < 0.6, pref_accepts_children=rng.random() < 0.3,
        created_at=at, status=MemberStatus.ACTIVE if verified else MemberStatus.INTAKE,
    )
    member.children_count = rng.choice([0, 1]) if member.marital_history is not MaritalHistory.NEVER else 0
    if verified:
        member.realname_verified_at = member.employer_verified_at = member.pledge_signed_at = at
        member.consent_at = at
        member.realname_verified_by_id = member.employer_verified_by_id = verifier.id
        member.pledge_recorded_by_id = member.consent_recorded_by_id = verifier.id
    elif rng.random() < 0.5:
        member.consent_at = at
    return member


@click.command("seed-demo")
@click.option("--members", "member_count", default=300, show_default=True, help="How many members to create.")
@click.option("--seed", default=2026, show_default=True, help="Random seed, for repeatable data.")
@with_appcontext
def seed_demo(member_count, seed):
    """Fill an empty database with demo data; does nothing if users exist."""
    if db.session.scalar(select(func.count()).select_from(User)):
        click.echo("The database already has users; demo data not added.")
        if db.session.scalar(select(User).where(User.username == DEMO_USERS[0][0])):
            print_demo_logins()
        return
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    centre = Branch(name="杭州市总工会职工婚恋服务中心", city="杭州市", phone="0571-85001234")
    station = Branch(name="滨江区总工会鹊桥驿站", city="杭州市", phone="0571-86005678")
    db.session.add_all([centre, station])
    db.session.flush()
    station.parent_id = centre.id
    branches = [centre, station]
    password_hash = hash_password(DEMO_PASSWORD)
    users = [User(username=u, display_name=n, roles=r, branch=branches[b], password_hash=password_hash,
                  phone=f"1390571{i:04d}") for i, (u, n, r, b) in enumerate(DEMO_USERS)]
    db.session.add_all(users)
    db.session.flush()
    volunteers = [u for u in users if u.has_role(Role.VOLUNTEER)]
    secret = current_app.config["SECRET_KEY"]
    used_phones: set[str] = set()
    members = []
    for i in range(member_count):
        branch = branches[0] if i % 3 else branches[1]
        choices = [v for v in volunteers if v.branch_id == branch.id]
        owner = rng.choice(choices) if rng.random() < 0.9 else None
        supervisor = next(u for u in users if u.has_role(Role.SUPERVISOR) and u.branch_id == branch.id)
        members.append(_member(fake, rng, branch, owner, supervisor, secret, used_phones))
    db.session.add_all(members)
    db.session.flush()
    for member in members:
        _seed_history(rng, member, users)
    from crm.counselling.demo import seed_counselling
    seed_counselling(rng, users, members)
    from crm.pairings.demo import seed_pairings
    seed_pairings(rng, members)
    from crm.events.demo import seed_events
    seed_events(rng, users, members)
    from crm.pairings.demo import make_some_due
    make_some_due(rng)
    from crm.intake.demo import seed_intake
    seed_intake(rng, branches, members)
    from crm.privacy.demo import seed_privacy
    seed_privacy(rng, members)
    db.session.commit()
    click.echo(f"Demo data: {len(branches)} branches, {len(users)} users, {len(members)} members.")
    print_demo_logins()


def _seed_history(rng, member, users):
    # The member's own branch supervisor, not the first branch's, assigns cases and writes pool notes.
    supervisor = next(u for u in users if u.has_role(Role.SUPERVISOR) and u.branch_id == member.branch_id)
    if member.owner_id:
        db.session.add(Assignment(member_id=member.id, to_user_id=member.owner_id, by_id=supervisor.id,
                                  reason="新建档案", at=member.created_at))
    last = None
    # Notes fall anywhere between the case file's opening and today; volunteers keep in touch with the
    # members they look after, the pool's members are seldom contacted.
    for _ in range(rng.randint(1, 6) if member.owner_id else rng.randint(0, 2)):
        day = member.created_at.date() + timedelta(days=rng.randint(0, (today() - member.created_at.date()).days))
        when = min(max(office_hours(rng, day), member.created_at), now_utc())
        db.session.add(Note(member_id=member.id, author_id=member.owner_id or supervisor.id,
                            kind=rng.choice(list(NoteKind)), body=rng.choice(NOTE_TEXTS),
                            contact_on=when.date(), created_at=when))
        last = max(last or when, when)
    member.last_contact_at = last


def office_hours(rng, day: date) -> datetime:
    """A moment of ``day`` between 9:00 and 18:00 where the union works, as the naive UTC that is stored."""
    local = datetime.combine(day, time(rng.randint(9, 17), rng.randint(0, 59)),
                             tzinfo=ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
    return local.astimezone(UTC).replace(tzinfo=None)


def print_demo_logins():
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for role in Role.singles():
        username = next(u for u, _n, r, _b in DEMO_USERS if r == role)
        click.echo(f"  {role.name.lower():<11} {username}")
