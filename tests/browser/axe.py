"""axe-core in the browser tests: `assert_accessible(page, what)` fails on any serious or critical WCAG 2.0/2.1
A or AA violation of the page as it is now, naming each rule, its help text and the elements it found.

axe-core comes from the npm registry at `make install` (Makefile: AXE_VERSION, sha384 checked) into the
git-ignored tests/.vendor/axe.min.js. It is never served by the app.

How it gets into the page: the app's Content-Security-Policy allows scripts from 'self' only, so the
<script> element Playwright's add_script_tag(content=/path=) writes is inline and refused (and reported as a CSP
violation, which other tests count as a failure). Instead the source is evaluated through the DevTools protocol
(page.evaluate), which the page's CSP does not govern; no bypass_csp context is needed, so the checked page is
exactly the page users get, under its real policy. axe itself needs no eval.
"""

from pathlib import Path

import pytest

AXE_JS = Path(__file__).resolve().parents[1] / ".vendor" / "axe.min.js"
# The success criteria of WCAG 2.1 level AA (2.0 and 2.1, levels A and AA).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
ANY_IMPACT = ("minor", "moderate", "serious", "critical")
# Rules axe files under best practice, not WCAG, that the app keeps anyway (the page sweep enforces them):
# one h1, headings in order, everything inside a landmark, one main, landmarks told apart, a working skip
# link, no empty table header.
STRUCTURE = ["page-has-heading-one", "heading-order", "region", "landmark-one-main", "landmark-unique",
             "landmark-no-duplicate-main", "skip-link", "empty-table-header", "empty-heading",
             "duplicate-id-aria"]

_RUN = """async ([type, values]) => {
  const result = await window.axe.run(document, {runOnly: {type: type, values: values}, resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.map(t => Array.isArray(t) ? t.join(" >> ") : t).join(" "),
                              summary: (n.failureSummary || "").replace(/\\s+/g, " ").trim(),
                              html: n.html.slice(0, 160)})),
  }));
}"""


def _source() -> str:
    if not AXE_JS.exists():
        # Not a skip: an accessibility check that silently does not run is a defect.
        pytest.fail(f"{AXE_JS} is missing: run `make install` (or `make {AXE_JS.relative_to(AXE_JS.parents[2])}`)")
    return AXE_JS.read_text(encoding="utf-8")


def _inject(page) -> None:
    if page.evaluate("typeof window.axe === 'object'"):
        return
    # As a function body: the file is one UMD expression that sets window.axe.
    page.evaluate("() => {\n" + _source() + "\n}")


def violations(page, impacts=BLOCKING, rules: list[str] | None = None) -> list[dict]:
    """The WCAG A/AA violations (or those of the given axe rules) axe finds in the page as it is now, of the
    given impacts (default serious and critical), each {id, impact, help, helpUrl, nodes: [{target, summary,
    html}]}."""
    page.wait_for_load_state("load")
    _inject(page)
    found = page.evaluate(_RUN, ["rule", rules] if rules else ["tag", WCAG_TAGS])
    return [v for v in found if v["impact"] in impacts]


def describe(found: list[dict]) -> str:
    lines = []
    for v in found:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:10]:
            lines.append(f"    {node['target']}  {node['html']}")
            if node["summary"]:
                lines.append(f"        {node['summary'][:300]}")
        if len(v["nodes"]) > 10:
            lines.append(f"    ... and {len(v['nodes']) - 10} more")
    return "\n".join(lines)


def assert_accessible(page, what: str) -> None:
    """Fail if axe finds any serious or critical WCAG 2.0/2.1 A/AA violation on `page` now; `what` names the
    step in the failure message (e.g. "volunteer: case file")."""
    found = violations(page)
    assert not found, f"{what} ({page.url}): {len(found)} serious/critical accessibility violations\n{describe(found)}"
