"""Pairings with marker strings in every private field, and ways to read a PDF back."""

import io
import shutil
import subprocess

from pypdf import PdfReader

from crm.extensions import db
from crm.members.models import Gender
from crm.pairings import services
from crm.pairings.models import SHARE_FIELDS, ConsentAnswer, ConsentChannel
from tests.factories import make_branch, make_member, make_user

#: Unique strings that appear nowhere but in the private fields of member B.
MARKERS = {"share_full_name": "欧阳琇莹", "share_phone": "13977001234", "share_wechat": "wx_marker_q7z",
           "share_employer": "琥珀标记机械有限公司"}


def introduced(shares_b=(), shares_a=(), branch_name="杭州市总工会职工服务中心", **b_overrides):
    """An introduced pairing: A (male, 张) and B (female, with the markers), each with a volunteer."""
    branch = make_branch(name=branch_name, phone="0571-87000000")
    vol_a = make_user("volunteer", branch=branch, display_name="王红", phone="13900002222")
    vol_b = make_user("volunteer", branch=branch, display_name="赵敏", phone="13900003333")
    a = make_member(owner=vol_a, gender=Gender.MALE, name="张建国", interests=["hiking", "tea", "films"])
    fields = {"gender": Gender.FEMALE, "name": MARKERS["share_full_name"], "phone": MARKERS["share_phone"],
              "wechat_id": MARKERS["share_wechat"], "employer": MARKERS["share_employer"],
              "interests": ["hiking", "reading", "photography"], "work_district": "西湖区",
              "self_intro": "喜欢周末爬山和拍照，性格开朗。", **b_overrides}
    b = make_member(owner=vol_b, **fields)
    pairing = services.propose_pairing(a, b, vol_a)
    consent(pairing, a, vol_a, shares_a)
    consent(pairing, b, vol_b, shares_b)
    db.session.commit()
    return pairing, vol_a, vol_b, a, b


def more_introductions(vol_a, vol_b, n: int):
    """``n`` more introduced pairings between members of the same two volunteers."""
    pairings = []
    for _ in range(n):
        a = make_member(owner=vol_a, gender=Gender.MALE)
        b = make_member(owner=vol_b, gender=Gender.FEMALE)
        pairing = services.propose_pairing(a, b, vol_a)
        consent(pairing, a, vol_a)
        consent(pairing, b, vol_b)
        pairings.append(pairing)
    db.session.commit()
    return pairings


def consent(pairing, member, by, shares=(), answer=ConsentAnswer.YES):
    services.record_consent(pairing, member, answer, ConsentChannel.PHONE,
                            {name: name in shares for name in SHARE_FIELDS}, by)


def pdf_pages_text(data: bytes) -> list[str]:
    """The text of each page (pdftotext when poppler is installed: it keeps CJK in reading order)."""
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout
        return out.decode().split("\f")[: len(PdfReader(io.BytesIO(data)).pages)]
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def pdf_fonts(data: bytes, tmp_path) -> str:
    path = tmp_path / "cards.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
