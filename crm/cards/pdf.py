"""Introduction cards as PDF: ``templates/cards/`` rendered to HTML, then to PDF by WeasyPrint.

WeasyPrint is imported here, at start-up (the blueprint imports this module), because the import
alone takes most of a second. Chinese is set in Noto Sans/Serif CJK SC from the Debian package
``fonts-noto-cjk`` that ``make`` installs (the project commits no font files); the CSS names the
families and fontconfig finds them, so Pango shapes the text with a real CJK font and WeasyPrint
embeds only the glyphs used (a subset, with ``libharfbuzz-subset0``). ``check_font`` says at
start-up whether fontconfig resolves the family to that package's file, not to a stand-in.

Documents fetch nothing from the network and no arbitrary file: ``StaticOnlyFetcher`` serves the
app's static files and the CJK font files, and refuses everything else.
"""

import logging
import mimetypes
import shutil
import subprocess
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import weasyprint
from flask import current_app, render_template
from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)

CJK_FAMILY = "Noto Sans CJK SC"
CJK_PATTERNS = ("Noto Sans CJK SC:style=Regular", "Noto Sans CJK SC:style=Bold",
                "Noto Serif CJK SC:style=Bold")


@cache
def font_file(pattern: str = CJK_PATTERNS[0]) -> str | None:
    """The file fontconfig resolves ``pattern`` to, if it is a Noto CJK file (else None)."""
    if shutil.which("fc-match") is None:
        return None
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return found if "NotoSansCJK" in found or "NotoSerifCJK" in found else None


def check_font() -> bool:
    """Log a clear error when the CJK font is missing: cards would print boxes instead of Chinese."""
    missing = [p for p in CJK_PATTERNS if font_file(p) is None]
    if missing:
        log.error("Introduction cards need the Noto CJK fonts (%s); run `make install` "
                  "(apt-get install fonts-noto-cjk libharfbuzz-subset0).", ", ".join(missing))
    return not missing


class StaticOnlyFetcher(URLFetcher):
    """Serves ``file:`` URLs inside the static folder or naming a CJK font file; refuses the rest."""

    def __init__(self, static_root: Path):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.static_root = static_root.resolve()
        self.font_files = {Path(f).resolve() for f in map(font_file, CJK_PATTERNS) if f}

    def allows(self, path: Path) -> bool:
        return path.is_file() and (path.is_relative_to(self.static_root) or path in self.font_files)

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"Introduction cards fetch only the app's static files, not {url!r}")
        path = Path(url2pathname(parts.path)).resolve()
        if not self.allows(path):
            raise ValueError(f"Introduction cards may not read {url!r}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})


def _static_root() -> Path:
    return Path(current_app.static_folder)


def html_to_pdf(html: str) -> bytes:
    """One WeasyPrint render of ``html`` (relative URLs resolve inside the static folder)."""
    root = _static_root()
    document = weasyprint.HTML(string=html, base_url=root.as_uri() + "/",
                               url_fetcher=StaticOnlyFetcher(root))
    return document.write_pdf()


def render_cards(cards) -> bytes:
    """All ``cards`` (``CardSide``s) in one document, one A6 page each, in one render."""
    return html_to_pdf(render_template("cards/cards.html", cards=cards))
