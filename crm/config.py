"""Configuration from the environment, with safe defaults for development."""

import os
from datetime import timedelta


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    # Relative SQLite paths land in the instance folder (Flask-SQLAlchemy resolves them there).
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///queqiao.db")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE  # the same env var: both cookies HTTPS-only, or neither
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # Server-side sessions (crm.auth.sessions): signed out after SESSION_IDLE_MINUTES without a request and
    # SESSION_ABSOLUTE_HOURS after sign-in; "keep me signed in" lasts REMEMBER_COOKIE_DURATION, never more
    # than REMEMBER_MAX_DAYS. last_seen_at is written at most every SESSION_TOUCH_SECONDS.
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12
    REMEMBER_MAX_DAYS = 30
    SESSION_TOUCH_SECONDS = 60
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Minutes a re-entered password counts as fresh for sensitive actions (crm.auth.reauth).
    PASSWORD_CONFIRM_MINUTES = 5
    # Rate limits (crm.throttle): sign-in attempts per account and per client address, and wrong
    # re-entered passwords per user, each within LOGIN_THROTTLE_SECONDS.
    LOGIN_ATTEMPTS_PER_ACCOUNT = 10
    LOGIN_ATTEMPTS_PER_IP = 50
    PASSWORD_CONFIRM_ATTEMPTS = 5
    LOGIN_THROTTLE_SECONDS = 15 * 60
    # Where rate-limit counters live: "database" (shared by every worker) or "memory" (one process,
    # development only; flask check-deploy refuses it with several workers).
    RATELIMIT_STORAGE = os.environ.get("RATELIMIT_STORAGE", "database")
    # argon2id parameters (RFC 9106 second recommendation: 64 MiB, 3 passes).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 64 * 1024
    PAGE_SIZE = 50
    # Set to a CDN URL (with HTMX_SRI) to load htmx from there instead of static/vendor/.
    HTMX_CDN_URL = os.environ.get("HTMX_CDN_URL", "")
    HTMX_SRI = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto/-Host (0: none, trust no such
    # header). With 1, a TLS-terminating proxy makes request.is_secure true: HSTS is sent, client IPs are real.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    # Strict-Transport-Security max-age, sent on HTTPS responses only (crm.security).
    HSTS_SECONDS = 365 * 24 * 3600
    # Pairing pipeline: days until the follow-up that a stage change creates (dating and
    # relationship repeat: completing one creates the next), and days before an unanswered
    # consent request counts as overdue.
    PAIRING_FOLLOWUP_DAYS = {"introduced": 7, "first_meeting": 3, "dating": 30, "relationship": 30}
    CONSENT_OVERDUE_DAYS = 10
    # Mixer events (crm.events): how many badge numbers one attendee's choice card may name.
    EVENT_MAX_CHOICES = 5
    # Open introductions (awaiting consent or later) a member may have before suggestions skip them.
    MATCHING_OPEN_LIMIT = 1
    # Seconds between full rebuilds of the suggestion index; None: only changed members are refreshed.
    MATCHING_REBUILD_SECONDS = None
    # Roster import (crm.intake.roster): uploads wait between preview and confirm in IMPORT_DIR
    # (relative: inside the instance folder; never static/), at most IMPORT_MAX_BYTES and IMPORT_MAX_ROWS rows.
    IMPORT_DIR = os.environ.get("IMPORT_DIR", "imports")
    IMPORT_MAX_BYTES = 8 * 1024 * 1024
    IMPORT_MAX_ROWS = 20_000
    # Any request body above this is refused (413) before it is read: no upload (roster, photo) needs more.
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    # Public self-registration (crm.intake): submissions per IP address per INTAKE_RATE_SECONDS (crm.throttle).
    INTAKE_RATE_LIMIT = 10
    INTAKE_RATE_SECONDS = 3600
    # Members signing themselves up for an event (crm.events public page): attempts (sign-up or cancel)
    # per IP address and per phone number per EVENT_SELF_RATE_SECONDS (crm.throttle). The phone limit
    # keeps the last 4 ID characters from being guessed; the IP limit allows a union hall behind one NAT.
    EVENT_SELF_RATE_LIMIT = 60
    EVENT_SELF_PHONE_LIMIT = 6
    EVENT_SELF_RATE_SECONDS = 3600
    # Member photos (crm.privacy.photos): stored outside static/, served only through a permission check.
    # Relative paths are inside the instance folder. Uploads above PHOTO_MAX_BYTES or PHOTO_MAX_PIXELS
    # (decoded width x height: decompression bombs) are refused; kept photos are re-encoded as JPEG
    # no larger than PHOTO_MAX_SIDE pixels on the long side, without EXIF/GPS.
    PHOTO_DIR = os.environ.get("PHOTO_DIR", "photos")
    PHOTO_MAX_BYTES = 5 * 1024 * 1024
    PHOTO_MAX_PIXELS = 40_000_000
    PHOTO_MAX_SIDE = 1600
    # Days after a case was closed before `flask purge-expired` anonymises it (crm.privacy.erasure).
    RETENTION_DAYS = int(os.environ.get("RETENTION_DAYS", str(3 * 365)))
    # Supervisor dashboard (crm.stats): an active member with no case note, proposed introduction or
    # follow-up in this many days is listed as neglected.
    STATS_NEGLECT_DAYS = int(os.environ.get("STATS_NEGLECT_DAYS", "30"))
    # Statistics cache (crm.stats.cache, per process): aggregates are reused while a freshness stamp of the
    # data is unchanged, and never longer than STATS_CACHE_SECONDS (bounds what the stamp cannot see, e.g. a
    # follow-up rescheduled); 0 turns the cache off. STATS_CACHE_SIZE: entries kept per process.
    STATS_CACHE_SECONDS = int(os.environ.get("STATS_CACHE_SECONDS", "300"))
    STATS_CACHE_SIZE = int(os.environ.get("STATS_CACHE_SIZE", "64"))
    # Where `flask backup` writes (crm.backup): a directory, relative paths inside the instance folder.
    # Empty: no backup target (flask backup refuses without --dir; flask check-deploy reports it). Put it on
    # another disk than the database. BACKUP_KEEP: newest backups kept by `flask backup --prune` (0: all).
    BACKUP_DIR = os.environ.get("BACKUP_DIR", "")
    BACKUP_KEEP = int(os.environ.get("BACKUP_KEEP", "14"))


class TestConfig(Config):
    TESTING = True
    # Ids restart in each test's emptied tables, so a stamp could repeat across tests: tests that exercise
    # the statistics cache turn it on themselves (tests/stats/test_cache.py).
    STATS_CACHE_SECONDS = 0
    # Tests read the English source strings; tests/test_translations.py checks the Chinese default page by page.
    BABEL_DEFAULT_LOCALE = "en"
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8 * 1024
