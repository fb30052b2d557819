"""Batch printing in the system Chromium: from the pipeline board to the card selection, two
introductions chosen, one PDF with both cards of each."""

import io
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import log_in
from tests.cards.helpers import introduced, more_introductions, pdf_pages_text

pytestmark = pytest.mark.browser


def test_a_volunteer_prints_the_cards_of_two_introductions_in_one_pdf(db, fresh_context, shot):
    first, vol_a, vol_b, *_ = introduced()
    second, third = more_introductions(vol_a, vol_b, 2)
    other_volunteers = introduced(branch_name="滨江区工会服务站")[0]

    page = fresh_context().new_page()
    log_in(page, vol_a)
    page.goto("/pairings/board")
    page.locator("a[href='/cards']").click()
    expect(page.locator("table.cards-select tbody tr")).to_have_count(3)  # not other volunteers' pairings
    expect(page.locator("main")).to_contain_text("欧女士")
    expect(page.locator("main")).not_to_contain_text("欧阳琇莹")
    expect(page.locator(f"input[name=pairing_id][value='{other_volunteers.id}']")).to_have_count(0)
    page.locator(f"input[name=pairing_id][value='{first.id}']").check()
    page.locator(f"input[name=pairing_id][value='{third.id}']").check()
    shot(page, "selection")
    with page.expect_download() as download:
        page.locator("#print-batch button[type=submit]").click()
    data = Path(download.value.path()).read_bytes()
    assert len(PdfReader(io.BytesIO(data)).pages) == 4
    pages = pdf_pages_text(data)
    refs = [next(p.reference for p in (first, third) if p.reference in text) for text in pages]
    assert refs[0] == refs[1] and refs[2] == refs[3] and set(refs) == {first.reference, third.reference}
    assert "欧女士" in "".join(pages) and "欧阳琇莹" not in "".join(pages)
    assert second.reference not in "".join(pages)
