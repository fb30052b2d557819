import re
from urllib.parse import urlsplit

from sqlalchemy import select

from crm.auth.models import User
from tests import dbstate, factories
from tests.i18n import msg


def _login(client, username, password, **extra):
    from tests.conftest import csrf_token
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client), **extra})


def test_a_user_signs_in_and_reaches_the_start_page(client, db):
    user = factories.make_user("volunteer")
    db.session.commit()
    response = _login(client, user.username, factories.PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/members/").status_code == 200
    assert db.session.get(User, user.id).last_login_at is not None


def test_unknown_user_and_wrong_password_get_the_same_answer(client, db):
    user = factories.make_user("volunteer")
    db.session.commit()
    wrong_password = _login(client, user.username, "not the password")
    unknown_user = _login(client, "nobody-here", factories.PASSWORD)
    assert wrong_password.status_code == unknown_user.status_code == 200

    def errors(response):
        return re.findall(r'<p class="error"[^>]*>(.*?)</p>', response.get_data(as_text=True))

    assert errors(wrong_password) == errors(unknown_user) != []
    assert client.get("/members/").status_code == 302


def test_an_inactive_user_cannot_sign_in(client, db):
    user = factories.make_user("volunteer", is_active_user=False)
    db.session.commit()
    response = _login(client, user.username, factories.PASSWORD)
    assert response.status_code == 200
    assert msg("Wrong username or password.") in response.get_data(as_text=True)
    assert client.get("/members/").status_code == 302


def test_deactivating_a_user_ends_their_open_sessions(client, db, login_as):
    user = login_as("volunteer")
    assert client.get("/members/").status_code == 200
    db.session.get(User, user.id).is_active_user = False
    db.session.commit()
    response = client.get("/members/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_sign_out_ends_every_session_including_copied_cookies(app, client, db, login_as, csrf):
    user = login_as("volunteer")
    old_token = db.session.get(User, user.id).session_token
    other_device = app.test_client()
    other_device.set_cookie("session", client.get_cookie("session").value)
    assert other_device.get("/members/").status_code == 200

    response = client.post("/logout", data={"csrf_token": csrf()})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).session_token != old_token
    assert other_device.get("/members/").status_code == 302
    assert client.get("/members/").status_code == 302


def test_the_session_cookie_is_http_only_and_same_site_lax(client, db):
    user = factories.make_user("volunteer")
    db.session.commit()
    response = _login(client, user.username, factories.PASSWORD, remember="y")
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(("session=", "remember_token="))]
    assert {c.split("=")[0] for c in cookies} == {"session", "remember_token"}
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_post_without_csrf_token_is_refused_and_writes_nothing(client, db, login_as):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer)
    db.session.commit()
    before = dbstate.contents()
    response = client.post(f"/members/{member.id}/notes", data={"kind": "call", "contact_on": "2026-01-05",
                                                                 "body": "没有令牌"})
    # Refused, and the form comes back with what was typed (crm.security.csrf_error).
    assert response.status_code == 422 and "没有令牌" in response.get_data(as_text=True)
    htmx = client.post(f"/members/{member.id}/notes", headers={"HX-Request": "true"},
                       data={"kind": "call", "contact_on": "2026-01-05", "body": "没有令牌"})
    assert htmx.status_code == 400 and "<html" not in htmx.get_data(as_text=True)
    forged = client.post("/logout", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    assert dbstate.contents() == before


def test_the_csrf_token_is_accepted_in_the_htmx_header(client, db, login_as, csrf):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer)
    db.session.commit()
    response = client.post(f"/members/{member.id}/notes", headers={"HX-Request": "true", "X-CSRFToken": csrf()},
                           data={"kind": "call", "contact_on": "2026-01-05", "body": "有令牌"})
    assert response.status_code == 200


def test_an_htmx_request_when_signed_out_gets_401_and_a_redirect_header(client, db):
    response = client.get("/members/search", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_a_page_request_when_signed_out_is_sent_to_login_and_back(client, db):
    response = client.get("/members/search?q=zhang")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    user = factories.make_user("volunteer")
    db.session.commit()
    from urllib.parse import parse_qs, urlsplit
    next_url = parse_qs(urlsplit(response.headers["Location"]).query)["next"][0]
    from tests.conftest import csrf_token
    signed_in = client.post("/login?next=" + next_url, data={
        "username": user.username, "password": factories.PASSWORD, "csrf_token": csrf_token(client)})
    assert signed_in.headers["Location"] == "/members/search?q=zhang"


def test_login_never_redirects_to_another_site(client, db):
    from tests.conftest import csrf_token
    user = factories.make_user("volunteer")
    db.session.commit()
    for target in ("//evil.example", "https://evil.example/", "/\\evil.example", "/\\/evil.example",
                   "\\\\evil.example", "/%5Cevil.example"):
        response = client.post("/login", query_string={"next": target}, data={
            "username": user.username, "password": factories.PASSWORD, "csrf_token": csrf_token(client)})
        location = response.headers["Location"]
        assert location.startswith("/") and not location.startswith("//"), target
        assert "\\" not in location and not urlsplit(location).netloc, target
        client.post("/logout", data={"csrf_token": csrf_token(client)})


def test_control_characters_in_the_username_are_refused_without_error(client, db):
    for username in ("admin\x00", "admin\x1b[31m"):
        response = _login(client, username, "whatever\x00")
        assert response.status_code == 200
        assert msg("Remove the invisible control characters from this text.") in response.get_data(as_text=True)


def test_switching_to_english_renders_pages_in_english(client, db, login_as, csrf, chinese_by_default):
    login_as("volunteer")
    page = client.get("/members/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    response = client.post("/language", data={"lang": "en", "next": "/members/", "csrf_token": csrf()})
    assert response.status_code == 302 and response.headers["Location"] == "/members/"
    page = client.get("/members/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "My cases" in page and "Sign out" in page


def test_an_unknown_language_is_ignored(client, db, csrf, chinese_by_default):
    response = client.post("/language", data={"lang": "xx", "next": "//evil.example", "csrf_token": csrf()})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert '<html lang="zh-CN">' in client.get("/login").get_data(as_text=True)


def test_create_user_cli_stores_an_argon2id_hash(app, db):
    branch = factories.make_branch(name="测试中心")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "xiaoli", "--name", "小李", "--branch", "测试中心",
                                 "--role", "volunteer", "--role", "supervisor"],
                           input="s3cret-pass\ns3cret-pass\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "xiaoli"))
    assert user.password_hash.startswith("$argon2id$")
    assert user.branch_id == branch.id and user.display_name == "小李"
    assert user.role_labels and len(user.role_labels) == 2

    again = runner.invoke(args=["create-user", "xiaoli", "--name", "小李", "--branch", "测试中心",
                                "--role", "volunteer", "--password", "x"])
    assert again.exit_code != 0 and "already exists" in again.output
    no_branch = runner.invoke(args=["create-user", "xiaowang", "--name", "小王", "--branch", "没有",
                                    "--role", "volunteer", "--password", "x"])
    assert no_branch.exit_code != 0


def test_a_user_created_by_the_cli_can_sign_in(app, client, db):
    factories.make_branch(name="测试中心")
    db.session.commit()
    app.test_cli_runner().invoke(args=["create-user", "xiaozhao", "--name", "小赵", "--branch", "测试中心",
                                       "--role", "volunteer", "--password", "s3cret-pass"])
    assert _login(client, "xiaozhao", "s3cret-pass").status_code == 302


def test_signed_in_pages_are_not_cached(client, db, login_as):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login_as("volunteer")
    assert client.get("/members/").headers["Cache-Control"] == "no-store"


def test_another_browser_without_the_cookie_is_not_signed_in(app, client, db, login_as):
    """Guards the test harness too: the signed-in user must not leak from one test client to another."""
    login_as("volunteer")
    assert client.get("/members/").status_code == 200
    assert app.test_client().get("/members/").status_code == 302
    assert client.get("/members/").status_code == 200
