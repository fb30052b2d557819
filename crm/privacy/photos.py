"""Member photos: checked by content, re-encoded without metadata, stored outside ``static/``.

An upload is refused (nothing stored) when it is larger than ``PHOTO_MAX_BYTES``, when Pillow
does not recognise it as a JPEG, PNG or WebP by its content (the file name and the browser's
Content-Type are ignored), when its decoded size exceeds ``PHOTO_MAX_PIXELS`` (a decompression
bomb), when it cannot be fully decoded, or when it carries markup (an HTML/SVG/script polyglot).
A kept photo is decoded, turned upright (EXIF orientation), shrunk to ``PHOTO_MAX_SIDE`` and saved
as a fresh JPEG: EXIF (GPS location included), comments and any trailing bytes are gone.

Files get random names in ``PHOTO_DIR`` (inside the instance folder unless absolute); the member
row holds the name. A replaced or deleted photo's file is removed when the transaction commits,
and a new file is removed if it rolls back, so disk and database agree.
"""

import io
import os
import re
import secrets
import warnings
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.orm import Session

from crm.audit.services import record
from crm.errors import Refusal
from crm.extensions import db

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
NAME = re.compile(r"^[0-9a-f]{32}\.jpg$")
_MARKUP = re.compile(rb"<\s*(script|html|svg|!doctype|\?php|iframe|body|object|embed)\b|javascript:", re.I)


def photo_dir() -> Path:
    configured = Path(current_app.config["PHOTO_DIR"])
    folder = configured if configured.is_absolute() else Path(current_app.instance_path) / configured
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def photo_file(name: str | None) -> Path | None:
    """The file of a stored photo name, or None for a name that is not one of ours."""
    if not name or not NAME.match(name):
        return None
    path = photo_dir() / name
    return path if path.is_file() else None


def _read_limited(stream, limit: int) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise Refusal(_l("The photo is too large (at most %(mb)d MB).", mb=limit // (1024 * 1024)), field="photo")
    if not data:
        raise Refusal(_l("Choose a photo to upload."), field="photo")
    return data


def clean_image(data: bytes) -> bytes:
    """The upload re-encoded as a JPEG without metadata, or a Refusal."""
    cfg = current_app.config
    not_photo = Refusal(_l("This file is not a JPEG, PNG or WebP photo."), field="photo")
    if _MARKUP.search(data):
        raise not_photo
    Image.MAX_IMAGE_PIXELS = cfg["PHOTO_MAX_PIXELS"]  # Pillow's own bomb check, at our limit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as img:
                width, height = img.size
                if width * height > cfg["PHOTO_MAX_PIXELS"] or width < 1 or height < 1:
                    raise Refusal(_l("The photo has too many pixels."), field="photo")
                if getattr(img, "n_frames", 1) > 1:
                    raise not_photo  # animations: one still photo only
                img.load()
                upright = ImageOps.exif_transpose(img)
                rgb = upright.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refusal(_l("The photo has too many pixels."), field="photo") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise not_photo from None
    side = cfg["PHOTO_MAX_SIDE"]
    rgb.thumbnail((side, side))
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=85, optimize=True)  # no exif=, no icc: nothing carried over
    return out.getvalue()


def _pending(session, key) -> list:
    return session.info.setdefault(key, [])


def _write(content: bytes) -> str:
    name = f"{secrets.token_hex(16)}.jpg"
    folder = photo_dir()
    tmp = folder / f".{name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    os.replace(tmp, folder / name)
    return name


def store_photo(member, upload, by) -> str:
    """Check, clean and store ``upload`` (a werkzeug FileStorage) as ``member``'s photo."""
    if member.erased_at is not None:
        raise Refusal(_l("This member's data has been erased."), field="photo")
    data = _read_limited(upload.stream, current_app.config["PHOTO_MAX_BYTES"])
    content = clean_image(data)
    name = _write(content)
    _pending(db.session, "photos_written").append(name)
    old = member.photo_path
    member.photo_path = name
    if old:
        _pending(db.session, "photos_removed").append(old)
    db.session.flush()
    record(by, "member.photo_upload", member, bytes=len(content))
    return name


def delete_photo(member, by, *, audit: bool = True) -> bool:
    old = member.photo_path
    if not old:
        return False
    member.photo_path = None
    _pending(db.session, "photos_removed").append(old)
    db.session.flush()
    if audit:
        record(by, "member.photo_delete", member)
    return True


def _unlink(names):
    for name in names:
        if NAME.match(name or ""):
            (photo_dir() / name).unlink(missing_ok=True)


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    session.info.pop("photos_written", None)
    removed = session.info.pop("photos_removed", None)
    if removed:
        _unlink(removed)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction):
    if previous_transaction.parent is not None:
        return
    session.info.pop("photos_removed", None)
    written = session.info.pop("photos_written", None)
    if written:
        _unlink(written)
