"""SVG charts: accessible (role, title, desc), escaped, no script, numbers drawn."""

from crm.stats.charts import bar_chart, column_chart


def test_bar_chart_is_accessible_and_escaped():
    svg = str(bar_chart("c1", "Funnel <b>", "How far pairs got", [("Proposed", 4), ("<script>", 0)], limits=[3, None]))
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-labelledby="c1-t c1-d"' in svg
    assert '<title id="c1-t">Funnel &lt;b&gt;</title>' in svg and '<desc id="c1-d">How far pairs got</desc>' in svg
    assert "<script" not in svg and "&lt;script&gt;" in svg and "style=" not in svg
    assert ">4</text>" in svg and 'stroke="#b3261e"' in svg  # the capacity marker


def test_column_chart_draws_every_series():
    svg = str(column_chart("c2", "Trends", "Per month", ["2026-01", "2026-02"], [("A", [1, 0]), ("B", [2, 5])]))
    assert svg.count("<rect") == 4 + 2  # bars (zero-height too) + legend swatches
    assert ">01</text>" in svg or "26-01" in svg
