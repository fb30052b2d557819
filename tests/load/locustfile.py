"""Volunteers at work: 30 of them browse their caseload, open case files, add notes, search and move
introductions along the pipeline, against a loopback server only (tests/load/test_load.py, `make load`).

Run by locust as its own process (gevent patches the standard library: never import this from pytest).
Each write the server confirms is counted; at the end the counts go to the JSON file named by
LOAD_RESULT, and the test compares them with the database: every confirmed write must be there.
Any 5xx, connection error or unexpected status is a failure and is counted too.
"""

import json
import os
import random
import re
import uuid
from collections import Counter
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "queqiao-demo")
VOLUNTEERS = ["volunteer", "volunteer2", "volunteer3", "volunteer4", "volunteer5"]
NOTE_PREFIX = "load-note "
COUNTS: Counter = Counter()
HTMX = {"HX-Request": "true"}
_next_login = iter(range(10**6))


@events.init.add_listener
def _loopback_only(environment, **_kwargs):
    host = urlsplit(environment.host or "").hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise SystemExit(f"The load test only targets this machine (loopback), not {host!r}.")


@events.request.add_listener
def _count(request_type, name, response_length, response, exception, **_kwargs):
    status = getattr(response, "status_code", 0) or 0
    if status >= 500:
        COUNTS["5xx"] += 1
    if exception is not None:
        COUNTS["failures"] += 1


@events.test_stop.add_listener
def _report(environment, **_kwargs):
    path = os.environ.get("LOAD_RESULT")
    if path:
        with open(path, "w") as f:
            json.dump(dict(COUNTS), f)


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return match.group(1) if match else ""


class Volunteer(HttpUser):
    wait_time = between(0.2, 1.0)

    def on_start(self):
        self.username = VOLUNTEERS[next(_next_login) % len(VOLUNTEERS)]
        self.member_ids: list[str] = []
        self.pairing_ids: list[str] = []
        token = _token(self.client.get("/login", name="/login").text)
        with self.client.post("/login", data={"username": self.username, "password": PASSWORD, "csrf_token": token},
                              allow_redirects=False, catch_response=True, name="/login [POST]") as r:
            if r.status_code != 302:
                r.failure(f"login as {self.username}: {r.status_code}")
                COUNTS["login_failed"] += 1
        self.caseload()

    def _get(self, url, name):
        with self.client.get(url, name=name, catch_response=True, allow_redirects=False) as r:
            if r.status_code != 200:
                r.failure(f"{url}: {r.status_code}")
            return r.text if r.status_code == 200 else ""

    @task(4)
    def caseload(self):
        html = self._get("/members/", "/members/")
        self.member_ids = sorted(set(re.findall(r'href="/members/(\d+)"', html))) or self.member_ids
        self.token = _token(html) or getattr(self, "token", "")

    @task(4)
    def case_file(self):
        if self.member_ids:
            self._get(f"/members/{random.choice(self.member_ids)}", "/members/[id]")

    @task(3)
    def add_note(self):
        if not self.member_ids:
            return
        member_id = random.choice(self.member_ids)
        page = self._get(f"/members/{member_id}", "/members/[id]")
        today = re.search(r'name="contact_on"[^>]*value="([0-9-]+)"', page)  # the form's default: today
        data = {"csrf_token": _token(page), "kind": "call", "contact_on": today.group(1) if today else "",
                "body": f"{NOTE_PREFIX}{uuid.uuid4().hex} 电话回访"}
        with self.client.post(f"/members/{member_id}/notes", data=data, headers=HTMX, catch_response=True,
                              name="/members/[id]/notes", allow_redirects=False) as r:
            if r.status_code == 200:
                COUNTS["notes"] += 1
            elif r.status_code == 422:
                COUNTS["notes_refused"] += 1
                r.success()
            else:
                r.failure(f"note: {r.status_code}")

    @task(2)
    def search(self):
        query = random.choice(["张", "王", "李", "138", "医院", "zh", ""])
        self._get(f"/members/search?q={query}", "/members/search")

    @task(2)
    def move_pairing(self):
        if not self.pairing_ids or random.random() < 0.3:
            html = self._get("/pairings/board", "/pairings/board")
            self.pairing_ids = sorted(set(re.findall(r'href="/pairings/(\d+)"', html)))
        if not self.pairing_ids:
            return
        pairing_id = random.choice(self.pairing_ids)
        page = self._get(f"/pairings/{pairing_id}", "/pairings/[id]")
        moves = [m for m in re.findall(r'name="to" value="([a-z_]+)"', page) if m != "closed"]
        version = re.search(r'name="version" value="(\d+)"', page)
        if not moves or not version:
            return
        data = {"csrf_token": _token(page), "version": version.group(1), "to": random.choice(moves),
                "note": "load test"}
        with self.client.post(f"/pairings/{pairing_id}/move", data=data, headers=HTMX, catch_response=True,
                              name="/pairings/[id]/move", allow_redirects=False) as r:
            if r.status_code == 200:
                COUNTS["moves"] += 1
            elif r.status_code == 422:  # moved meanwhile by another volunteer (stale version) or not allowed now
                COUNTS["moves_refused"] += 1
                r.success()
            else:
                r.failure(f"move: {r.status_code}")
