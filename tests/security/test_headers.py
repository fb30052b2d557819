"""Security headers, checked over the whole URL map: every GET route, as a user allowed to open it,
as a page and as an htmx fragment (routes from tests/auth/test_policy.py, so new ones are swept too)."""

import re

import pytest
from flask import url_for

from crm import create_app, security
from crm.auth import policy
from crm.config import TestConfig
from tests.auth.test_policy import ROUTES
from tests.security.scene import Scene

# Domains whose pages Scene builds records for (others' pages are still checked, whatever they answer).
SCENE_COVERS = ("auth.", "members.", "pairings.", "followups.", "counselling.", "cards.", "matching.", "audit.",
                "admin.")
GET_ROUTES = [pytest.param(r, id=r.endpoint) for r in ROUTES if r.method == "GET"]
EXPECTED_CSP = {
    "default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:",
    "object-src": "'none'", "base-uri": "'none'", "form-action": "'self'", "frame-ancestors": "'none'",
}


def csp_directives(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in header.split(";")) if part}


def assert_security_headers(response, *, signed_in: bool, static: bool = False):
    csp = csp_directives(response)
    for name, value in EXPECTED_CSP.items():
        assert csp.get(name) == value, (name, response.headers.get("Content-Security-Policy"))
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: see the HTTPS tests
    cache = response.headers.get("Cache-Control", "")
    if static:
        assert "no-store" not in cache
    elif signed_in or response.mimetype != "text/html":
        assert cache == "no-store", cache
    if response.mimetype == "text/html":
        assert "HX-Request" in response.headers.get("Vary", ""), response.headers.get("Vary")


@pytest.mark.parametrize("route", GET_ROUTES)
def test_every_get_route_sends_the_security_headers(app, client, db, login_as, route):
    scene = Scene()
    db.session.commit()
    public = policy.ROUTE_ACCESS.get(route.endpoint) == policy.PUBLIC
    if not public:
        login_as(scene.user)
    with app.test_request_context():
        url = url_for(route.endpoint, **scene.url_values(route))
    for headers in ({}, {"HX-Request": "true"}, {"HX-Request": "true", "HX-Boosted": "true"}):
        response = client.get(url, headers=headers)
        assert response.status_code < 500, response.get_data(as_text=True)[:500]
        if route.endpoint.startswith(SCENE_COVERS) and not headers:
            assert response.status_code in (200, 302), (url, response.status_code)  # the real page, not an error
        assert_security_headers(response, signed_in=not public, static=route.endpoint == "static")
        response.close()  # a static file's response holds the open file


def test_error_pages_and_refusals_carry_the_headers_too(client, db, login_as):
    login_as("volunteer")
    for response in (client.get("/no/such/page"), client.get("/admin/users"), client.post("/members/new")):
        assert response.status_code in (403, 404, 422)  # 422: the form again, its CSRF token missing
        assert_security_headers(response, signed_in=True)


def test_static_files_stay_cacheable_for_a_signed_in_user(client, db, login_as):
    login_as("volunteer")
    for path in ("/static/css/app.css", "/static/js/app.js"):
        response = client.get(path)
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")
        assert response.headers.get("ETag")
        response.close()


def test_the_login_page_may_be_cached_but_a_signed_in_page_may_not(client, db, login_as):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login_as("volunteer")
    assert client.get("/members/").headers["Cache-Control"] == "no-store"


def test_hsts_only_over_https(client, db):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    response = client.get("/login", base_url="https://queqiao.example")
    hsts = response.headers["Strict-Transport-Security"]
    assert re.fullmatch(r"max-age=(\d+); includeSubDomains", hsts)
    assert int(hsts.split("=")[1].split(";")[0]) >= 180 * 24 * 3600


def test_hsts_behind_a_trusted_tls_proxy_only():
    """X-Forwarded-Proto counts only when TRUSTED_PROXIES says a proxy sets it (else anyone could send it)."""
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}

    class Proxied(TestConfig):
        TRUSTED_PROXIES = 1

    for config, expected in ((TestConfig, False), (Proxied, True)):
        with create_app(config).test_client().get("/static/css/app.css", headers=forwarded) as response:
            assert ("Strict-Transport-Security" in response.headers) is expected


def test_a_cdn_for_htmx_is_allowed_by_the_policy_with_integrity(app, client, db, monkeypatch):
    cdn = "https://cdn.example.org/npm/htmx.org@2.0.4/dist/htmx.min.js"
    monkeypatch.setitem(app.config, "HTMX_CDN_URL", cdn)
    response = client.get("/login")
    assert csp_directives(response)["script-src"] == f"'self' {cdn}"
    page = response.get_data(as_text=True)
    assert re.search(rf'<script src="{re.escape(cdn)}" integrity="sha384-[A-Za-z0-9+/=]+" crossorigin="anonymous"',
                     page)
    assert "vendor/htmx.min.js" not in page


def test_without_a_cdn_only_the_app_serves_scripts(app, client, db):
    assert csp_directives(client.get("/login"))["script-src"] == "'self'"
    assert security.content_security_policy  # the one place the policy is built


def test_a_nul_in_the_address_is_refused_cleanly(client, db, login_as):
    response = client.get("/followups/abc%00def.ics")
    assert response.status_code == 400
