"""The yardstick for throughput: a bare Flask page rendering a 50-row table, no database.

``gunicorn bench.tableapp:app`` serves ``/table`` (50 rows x 7 escaped cells, like the caseload)
and ``/hello``. bench/serve.py measures it beside the caseload page in the same run.
"""

from collections import namedtuple

from flask import Flask, render_template
from jinja2 import DictLoader

Row = namedtuple("Row", "id name gender age district owner last_contact status")
ROWS = [Row(i, f"张{'伟芳娜敏静丽强磊军洋'[i % 10]}{i}", "女" if i % 2 else "男", 25 + i % 15, "西湖区",
            f"志愿者{i % 7}", f"2026-11-{1 + i % 28:02d}", "active") for i in range(1, 51)]
PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1><table><thead><tr><th>姓名</th><th>性别</th><th>年龄</th><th>区</th>
<th>红娘</th><th>最近联系</th><th>状态</th></tr></thead><tbody>
{% for r in rows %}<tr><td><a href="/members/{{ r.id }}">{{ r.name }}</a></td><td>{{ r.gender }}</td>
<td>{{ r.age }}</td><td>{{ r.district }}</td><td>{{ r.owner }}</td><td>{{ r.last_contact }}</td>
<td>{{ r.status }}</td></tr>{% endfor %}</tbody></table></main></body></html>"""

app = Flask(__name__)
# A template loaded by name, as every real page is: compiled once and kept by Jinja's cache
# (render_template_string would compile it on every request and make the yardstick slower than a real page).
app.jinja_loader = DictLoader({"table.html": PAGE})


@app.get("/table")
def table():
    return render_template("table.html", title="我的会员", rows=ROWS)


@app.get("/hello")
def hello():
    return "hello"
