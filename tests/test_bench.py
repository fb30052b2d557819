"""The benchmark runs at a small size in the suite so that it cannot rot (no times are asserted)."""

from bench import suggestions


def test_suggestion_benchmark_runs_and_agrees_with_the_reference(capsys):
    suggestions.main(2_000, 3)
    out = capsys.readouterr().out
    assert "numpy index top 20" in out and "pure-Python scan top 20" in out
