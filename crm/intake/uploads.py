"""Uploaded rosters kept between preview and confirm: in the instance folder (never under static/),
under a random name, readable only by the user who uploaded them, deleted after import or a day."""

import hashlib
import json
import re
import secrets
import time
from pathlib import Path

from flask import current_app

from crm.errors import Refusal

_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
MAX_AGE_SECONDS = 24 * 3600


def _folder() -> Path:
    folder = Path(current_app.config["IMPORT_DIR"])
    if not folder.is_absolute():
        folder = Path(current_app.instance_path) / folder
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def read_upload(stream) -> bytes:
    """The uploaded file's bytes, refusing more than IMPORT_MAX_BYTES without reading it all."""
    from flask_babel import lazy_gettext as _l

    limit = current_app.config["IMPORT_MAX_BYTES"]
    content = stream.read(limit + 1) if stream else b""
    if not content:
        raise Refusal(_l("Choose a file to upload."), field="file")
    if len(content) > limit:
        raise Refusal(_l("The file is larger than %(num)d MB.", num=limit // (1024 * 1024)), field="file")
    return content


def save(content: bytes, table: list[list[str]], *, user_id: int, branch_id: int, filename: str) -> str:
    """Keep the upload's table of cell texts (read once from the workbook) with its details; the token."""
    _clean_old()
    token = secrets.token_urlsafe(24)
    folder = _folder()
    data = json.dumps(table, ensure_ascii=False).encode()
    (folder / f"{token}.bin").write_bytes(data)
    meta = {"user_id": user_id, "branch_id": branch_id, "filename": filename[:100],
            "sha256": hashlib.sha256(content).hexdigest(), "table_sha256": hashlib.sha256(data).hexdigest()}
    (folder / f"{token}.json").write_text(json.dumps(meta))
    return token


def load(token: str, *, user_id: int) -> tuple[list[list[str]], dict] | None:
    """The kept table and its details, or None if the token is unknown, expired or someone else's."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    folder = _folder()
    try:
        meta = json.loads((folder / f"{token}.json").read_text())
        data = (folder / f"{token}.bin").read_bytes()
        if meta.get("user_id") != user_id or hashlib.sha256(data).hexdigest() != meta.get("table_sha256"):
            return None
        return json.loads(data), meta
    except (OSError, ValueError):
        return None


def discard(token: str) -> None:
    if not _TOKEN.fullmatch(token or ""):
        return
    for suffix in (".bin", ".json"):
        (_folder() / f"{token}{suffix}").unlink(missing_ok=True)


def _clean_old() -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for path in _folder().glob("*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass
