"""Server-rendered SVG charts (no JavaScript). Each chart has role="img", a <title> and a <desc>;
the pages and the annual report print the same numbers as a table beside it.

Colours are presentation attributes, not style attributes (the CSP forbids those).
"""

from markupsafe import Markup, escape

SERIES_COLOURS = ("#2f6f9f", "#d9822b", "#3a9a5b", "#8a5fb3")
# The PDFs' fonts (crm/cards/pdf.py): the annual report draws these charts.
_FONT = 'font-family="WenQuanYi Micro Hei, Noto Sans CJK SC, sans-serif" font-size="12"'


def _number(value) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def bar_chart(chart_id: str, title: str, desc: str, items: list[tuple[str, float]], *,
              limits: list | None = None, width: int = 560) -> Markup:
    """Horizontal bars, one per (label, value); ``limits`` draws a marker per bar (e.g. capacity)."""
    label_w, row_h, pad = 170, 26, 8
    height = pad * 2 + row_h * max(1, len(items))
    top = max([v for _, v in items] + [limit for limit in (limits or []) if limit] + [1])
    span = width - label_w - 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" aria-labelledby="{chart_id}-t {chart_id}-d">',
             f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>']
    for i, (label, value) in enumerate(items):
        y = pad + i * row_h
        w = 0 if not value else max(1, round(span * value / top))
        parts.append(f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" {_FONT} fill="#222">'
                     f'{escape(str(label))}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{w}" height="{row_h - 8}" fill="{SERIES_COLOURS[0]}"/>')
        parts.append(f'<text x="{label_w + w + 4}" y="{y + 17}" {_FONT} fill="#222">{_number(value)}</text>')
        if limits and i < len(limits) and limits[i]:
            x = label_w + round(span * limits[i] / top)
            parts.append(f'<line x1="{x}" x2="{x}" y1="{y + 1}" y2="{y + row_h - 1}" stroke="#b3261e" '
                         f'stroke-width="2"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(chart_id: str, title: str, desc: str, categories: list[str],
                 series: list[tuple[str, list[float]]], *, width: int = 560, height: int = 220) -> Markup:
    """Grouped columns: one group per category (e.g. month), one column per series, with a legend."""
    left, bottom, top_pad = 36, 40, 24
    plot_h = height - bottom - top_pad
    top = max([v for _, values in series for v in values] + [1])
    group_w = (width - left - 8) / max(1, len(categories))
    bar_w = min(28.0, max(2.0, (group_w - 6) / max(1, len(series))))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" aria-labelledby="{chart_id}-t {chart_id}-d">',
             f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>',
             f'<line x1="{left}" x2="{width - 4}" y1="{top_pad + plot_h}" y2="{top_pad + plot_h}" stroke="#888"/>',
             f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end" {_FONT} fill="#555">{_number(top)}</text>',
             f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end" {_FONT} fill="#555">0</text>']
    for c, category in enumerate(categories):
        x0 = left + c * group_w + (group_w - bar_w * len(series)) / 2
        for s, (_, values) in enumerate(series):
            value = values[c]
            h = 0 if not value else max(1, round(plot_h * value / top))
            parts.append(f'<rect x="{x0 + s * bar_w:.1f}" y="{top_pad + plot_h - h}" width="{bar_w - 1:.1f}" '
                         f'height="{h}" fill="{SERIES_COLOURS[s % len(SERIES_COLOURS)]}"/>')
        if len(categories) <= 12 or c % 3 == 0:
            parts.append(f'<text x="{left + (c + 0.5) * group_w:.1f}" y="{top_pad + plot_h + 14}" text-anchor="middle" '
                         f'{_FONT} fill="#555">{escape(category[2:])}</text>')
    for s, (name, _) in enumerate(series):
        x = left + s * 130
        parts.append(f'<rect x="{x}" y="{height - 14}" width="10" height="10" '
                     f'fill="{SERIES_COLOURS[s % len(SERIES_COLOURS)]}"/>')
        parts.append(f'<text x="{x + 14}" y="{height - 5}" {_FONT} fill="#222">{escape(str(name))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
