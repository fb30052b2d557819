"""PDFs (introduction cards, event badges, the annual report, a member's data export): HTML from
``templates/`` rendered by WeasyPrint.

WeasyPrint is imported here, at start-up (the cards blueprint imports this module), because the
import alone takes most of a second.

Fonts: Chinese is set in WenQuanYi Micro Hei (Debian ``fonts-wqy-microhei``, a 5 MB TrueType
collection), with Noto Sans CJK SC (``fonts-noto-cjk``) named after it as the fallback for the
rare characters Micro Hei lacks (CJK Extension A, e.g. 䶮, and the latest additions to the main
block). Both come from the system packages ``make`` installs (the project commits no font files);
the CSS names the families and fontconfig finds them. A TrueType font is what makes a card cheap:
WeasyPrint embeds only the glyphs used, and subsetting Micro Hei's glyf table costs a fraction of
subsetting Noto's CFF outlines (PERFORMANCE.md: half the time per card, files 10x smaller). Pango
only reaches for Noto, and WeasyPrint only embeds it, when a text has a glyph Micro Hei lacks.
Micro Hei has no bold face and WeasyPrint draws no synthetic bold, so PDF stylesheets mark
emphasis with size and colour (``font-weight: normal``: a "bold" request would embed the same
glyphs a second time as a separate font for no visible difference). ``check_font`` says at
start-up whether fontconfig resolves both families to those packages' files, not to stand-ins.

Per document, only the document's own work is done: the fontconfig configuration (loading it
scans every installed font, ~25 ms) is built once per process and shared, and stylesheets given
by name are parsed once per process (re-parsed when the file changes).

Python's cyclic garbage collector is paused while WeasyPrint works (``gc_paused``): a card allocates
~100,000 short-lived objects (boxes, styles, Pango wrappers), which trigger a collection every few
hundred allocations, each scanning the young objects of the whole process; a batch of 100 cards spent
15-20 % of its CPU there. Reference counting still frees almost everything at once; the cycles left
are collected by the next automatic collection after the render.

A card's cost is WeasyPrint's work per box and text run (cascade, layout, drawing: ~20 text lines a
card), so the card template keeps runs few: interests not shared print as one run, the band's bridge is
a PNG placed on each page rather than an SVG re-drawn on each, no opacity groups. A big batch is not split
over a pool of processes: on the 2-core server the second core belongs to the other gunicorn worker and
everyone else's pages, the CPU per card would not shrink (each half would embed its own font subset, and
the halves would need a PDF merge), and a pool inside a sync worker (fork after Pango and fontconfig are
loaded, a dead helper, shutdown with the worker) adds failure modes for a page printed a few times a day.

Documents fetch nothing from the network and no arbitrary file: ``StaticOnlyFetcher`` serves the
app's static files and the CJK font files, and refuses everything else.
"""

import gc
import logging
import mimetypes
import os
import re
import shutil
import subprocess
from contextlib import contextmanager
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import weasyprint
from flask import current_app, render_template
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)

#: The family every PDF stylesheet names first, and the fallback named after it.
CJK_FAMILY = "WenQuanYi Micro Hei"
FALLBACK_FAMILY = "Noto Sans CJK SC"
#: fontconfig pattern -> a part of the file name it must resolve to (else fontconfig substituted a stand-in).
CJK_PATTERNS = {f"{CJK_FAMILY}:style=Regular": "wqy-microhei"}
FALLBACK_PATTERNS = {f"{FALLBACK_FAMILY}:style=Regular": "NotoSansCJK"}
PACKAGES = "fonts-wqy-microhei fonts-noto-cjk libharfbuzz-subset0"


@cache
def font_file(pattern: str = next(iter(CJK_PATTERNS))) -> str | None:
    """The file fontconfig resolves ``pattern`` to, if it is the expected package's file (else None)."""
    expected = {**CJK_PATTERNS, **FALLBACK_PATTERNS}.get(pattern)
    if shutil.which("fc-match") is None or expected is None:
        return None
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return found if expected in Path(found).name else None


def check_font() -> bool:
    """Log a clear error when the CJK font is missing (PDFs would print boxes instead of Chinese), and a
    warning when only the fallback for rare characters is."""
    missing = [p for p in CJK_PATTERNS if font_file(p) is None]
    if missing:
        log.error("PDFs (introduction cards, badges, reports) need the CJK font %s; run `make install` "
                  "(apt-get install %s).", ", ".join(missing), PACKAGES)
    if not missing and any(font_file(p) is None for p in FALLBACK_PATTERNS):
        log.warning("The fallback CJK font %s is missing: rare characters in names (CJK Extension A) would "
                    "print as boxes; run `make install` (apt-get install fonts-noto-cjk).", FALLBACK_FAMILY)
    return not missing


class StaticOnlyFetcher(URLFetcher):
    """Serves ``file:`` URLs inside the static folder or naming a CJK font file; refuses the rest."""

    def __init__(self, static_root: Path, also: frozenset[Path] = frozenset()):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.static_root = static_root.resolve()
        self.font_files = {Path(f).resolve() for f in map(font_file, {**CJK_PATTERNS, **FALLBACK_PATTERNS}) if f}
        self.also = {p.resolve() for p in also}  # files this one document was given (members' photos)

    def allows(self, path: Path) -> bool:
        return path.is_file() and (path.is_relative_to(self.static_root) or path in self.font_files
                                   or path in self.also)

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"PDFs fetch only the app's static files, not {url!r}")
        path = Path(url2pathname(parts.path)).resolve()
        if not self.allows(path):
            raise ValueError(f"PDFs may not read {url!r}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})


_font_configs: dict[int, FontConfiguration] = {}


def font_config() -> FontConfiguration:
    """This process's fontconfig configuration, shared by all its documents. Built at first use in each
    process (not inherited across a fork: a worker forked from a preloading master builds its own).
    Sharing is safe because no PDF stylesheet declares ``@font-face``; it also keeps Pango's caches warm."""
    pid = os.getpid()
    if pid not in _font_configs:
        _font_configs.clear()
        _font_configs[pid] = FontConfiguration()
    return _font_configs[pid]


@lru_cache(maxsize=16)
def _parsed(path: Path, _mtime_ns: int, base_url: str) -> weasyprint.CSS:
    return weasyprint.CSS(string=path.read_text(encoding="utf-8"), base_url=base_url,
                          font_config=font_config())


def stylesheet(name: str) -> weasyprint.CSS:
    """``static/<name>`` parsed once per process (again when the file changes)."""
    root = _static_root()
    path = (root / name).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        raise ValueError(f"no stylesheet {name!r} in the static folder")
    return _parsed(path, path.stat().st_mtime_ns, path.parent.as_uri() + "/")


def _static_root() -> Path:
    return Path(current_app.static_folder)


@contextmanager
def gc_paused():
    """No cyclic garbage collection inside the block (the module docstring says why). Re-enabled on the way
    out only if it was on when the block began, so nested or concurrent blocks (threads) never leave it off."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def html_to_pdf(html: str, stylesheets: tuple[str, ...] = (), files: frozenset[Path] = frozenset()) -> bytes:
    """One WeasyPrint render of ``html`` (relative URLs resolve inside the static folder), styled by its
    own ``<link>``s and by ``stylesheets`` (names under static/, parsed once per process). ``files``:
    files outside the static folder this document may read (checked by the caller)."""
    root = _static_root()
    with gc_paused():
        document = weasyprint.HTML(string=html, base_url=root.as_uri() + "/",
                                   url_fetcher=StaticOnlyFetcher(root, files))
        return document.write_pdf(stylesheets=[stylesheet(name) for name in stylesheets],
                                  font_config=font_config())


#: The cards' stylesheet, passed pre-parsed rather than linked from the template.
CARD_CSS = "cards/card.css"


def render_cards(cards) -> bytes:
    """All ``cards`` (``CardSide``s) in one document, one A6 page each, in one render. A card's photo
    (put there by crm.cards.services after the photo checks) is the only file it reads outside static/."""
    photos = frozenset(Path(url2pathname(urlsplit(c.photo).path)) for c in cards if c.photo)
    html = _LINE_BREAK_BETWEEN_TAGS.sub("><", render_template("cards/cards.html", cards=cards))
    return html_to_pdf(html, stylesheets=(CARD_CSS,), files=photos)


#: The template's line breaks and indentation between tags (never inside a line of text, where a space
#: separates words): the parser and the box builder would handle ~40 whitespace runs per card (2 % of it).
_LINE_BREAK_BETWEEN_TAGS = re.compile(r">[ \t]*\n\s*<")


#: The band's bridge on every card: static/cards/bridge.svg drawn once into a PNG (templates/cards/_card.html says why).
BRIDGE_SVG, BRIDGE_PNG, BRIDGE_PX = "cards/bridge.svg", "cards/bridge.png", (480, 160)


def make_bridge_png(target: Path) -> None:
    """Rasterize the bridge SVG to ``target`` (transparent PNG, BRIDGE_PX): WeasyPrint draws it into a one-image
    PDF and poppler's pdftocairo renders that. Run it after changing bridge.svg; a test checks they agree."""
    root = _static_root()
    width, height = BRIDGE_PX
    html = (f'<style>@page {{ size: {width // 4}px {height // 4}px; margin: 0 }} body {{ margin: 0 }} '
            f'img {{ display: block; width: {width // 4}px; height: {height // 4}px }}</style>'
            f'<img src="{BRIDGE_SVG}">')
    document = weasyprint.HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=StaticOnlyFetcher(root))
    subprocess.run(["pdftocairo", "-png", "-transp", "-singlefile", "-scale-to-x", str(width), "-scale-to-y",
                    str(height), "-", str(target.with_suffix(""))], input=document.write_pdf(), check=True,
                   capture_output=True, timeout=60)
