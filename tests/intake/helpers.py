"""Rows and files for the intake tests."""

import io

from openpyxl import Workbook

from crm.validators import _ID_CHECK, _ID_WEIGHTS

HEADERS_ZH = ["姓名", "性别", "出生日期", "手机号", "身份证号", "工作单位", "学历", "婚史", "身高", "工作区域",
              "居住区域"]


def resident_id(birth: str, seq: int = 1, area: str = "330106") -> str:
    """A valid 18-character ID number for a birth date "YYYYMMDD"."""
    body = f"{area}{birth}{seq % 1000:03d}"
    return body + _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def good_row(n: int) -> list:
    """A valid roster row; phones and ID numbers differ by n."""
    birth = f"19{80 + n % 20:02d}0{1 + n % 9}1{n % 9}"
    return [f"张{'伟娜丽强敏静磊洋艳勇'[n % 10]}{'一二三四五六七八九十'[n // 10 % 10]}", "女" if n % 2 else "男",
            f"{birth[:4]}-{birth[4:6]}-{birth[6:]}", f"137{n:08d}",
            resident_id(birth, n, area=f"33{n // 1000 % 100:02d}06"), "杭州市地铁集团", "本科", "未婚",
            "170", "杭州市/西湖区", "滨江区"]


def xlsx_bytes(rows: list[list], headers=HEADERS_ZH) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], headers=HEADERS_ZH, encoding="utf-8") -> bytes:
    import csv
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)
