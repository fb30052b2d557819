"""Error pages reached through htmx-boosted links (htmx never swaps an error response)."""


def test_a_boosted_link_to_a_missing_page_is_loaded_for_real(client, login_as):
    login_as("volunteer")
    response = client.get("/members/999999?tab=x", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert response.status_code == 404
    assert response.headers["HX-Redirect"] == "/members/999999?tab=x"
    assert response.get_data(as_text=True) == ""


def test_the_real_load_shows_the_error_page(client, login_as):
    login_as("volunteer")
    response = client.get("/members/999999")
    assert response.status_code == 404
    assert "HX-Redirect" not in response.headers
    assert "<main" in response.get_data(as_text=True)


def test_a_fragment_request_still_gets_the_short_message(client, login_as):
    login_as("volunteer")
    response = client.get("/members/999999", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert "HX-Redirect" not in response.headers
    assert "<main" not in response.get_data(as_text=True)


def test_a_fragment_gets_the_apps_message_not_werkzeugs(app, client, login_as):
    login_as("volunteer")
    response = client.get("/members/999999", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert "requested URL" not in text and text.strip()
