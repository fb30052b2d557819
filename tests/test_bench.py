"""The benchmark runs at a small size in the suite so that it cannot rot (no times are asserted)."""

from bench import suggestions


def test_suggestion_benchmark_runs_and_agrees_with_the_reference(capsys):
    suggestions.main(2_000, 3)
    out = capsys.readouterr().out
    assert "numpy index top 20" in out and "pure-Python scan top 20" in out


def test_page_benchmark_runs_on_a_small_dataset(db, app, monkeypatch):
    """bench.pages end to end on 300 members: every page answers, statements are counted and replayed."""
    from bench import pages
    from crm.benchdata import generate
    from crm.matching import service

    generate(db.engine, 300, seed=3, secret=app.config["SECRET_KEY"])
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    monkeypatch.setattr(pages, "BATCH_PAIRINGS", 3)  # the same code path as 100 cards, without minutes of PDF work
    try:
        results, subjects = pages.measure(app, runs=1, echo=lambda line: None, warmup=0)
    finally:
        service.reset()
    by_page = {r.page.split(" (")[0].split(",")[0]: r for r in results}
    assert {"Caseload", "Case file", "Search by name", "Search by pinyin", "Board", "Suggestions"} <= set(by_page)
    assert all(r.status == 200 for r in results), [(r.page, r.status) for r in results]
    assert all(r.statements >= 1 and r.floor_ms is not None for r in results)
    assert subjects["member_id"] and subjects["pinyin"]
    table = pages.markdown_table({"results": [r.__dict__ | {"ratio": r.ratio} for r in results]})
    assert "Caseload" in table


def test_throughput_benchmark_serves_every_page_and_reports(db, app, database_url):
    """bench.serve end to end on 300 members (gunicorn, 2 workers, wrk on loopback for a second per page), then
    bench.report's table and verdicts from what it measured."""
    from bench import pages, report, serve
    from crm.benchdata import generate

    generate(db.engine, 300, seed=3, secret=app.config["SECRET_KEY"])
    subjects = pages.pick_subjects(app)
    results = serve.measure(app, database_url, app.config["SECRET_KEY"], subjects["volunteer"],
                            subjects["member_id"], seconds=1, warm_seconds=1)
    assert set(results) == {"Bare 50-row table (no DB)", serve.SIGNED_IN_FLOOR, "Caseload", "Case file",
                            "Bare 50-row table, again"}
    assert all(r["rps"] > 0 and r["non_2xx"] == 0 for r in results.values()), results

    verdict = report.throughput_verdict({"serve": results})
    assert verdict.startswith("caseload ") and "the ceiling of any signed-in page" in verdict
    lines = report.serve_table({"SQLite": {"serve": results}})
    assert any(line.startswith("| Caseload | ") for line in lines)
