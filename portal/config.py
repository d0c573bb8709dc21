"""Configuration classes. Everything that differs between machines comes from the environment."""
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("PORTAL_INSTANCE_PATH", ROOT / "instance"))


def _database_url(default: str) -> str:
    url = os.environ.get("DATABASE_URL", default)
    # Heroku-style and bare postgres URLs go through psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


# The fallback key older versions shipped: anyone could sign a session with it, so it counts as unset.
PUBLISHED_SECRET_KEYS = frozenset({"dev-only-change-me"})


class Config:
    # Required outside development and tests: create_app() refuses to start without it.
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    # Where an install without SECRET_KEY keeps the key it generated (development only).
    SECRET_KEY_FILE: str | None = None
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE / 'portal.db'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_URL = os.environ.get("REDIS_URL", "")
    # Failed-login throttling lives in Redis in production so every worker shares it.
    LOGIN_THROTTLE_STORAGE = os.environ.get("LOGIN_THROTTLE_STORAGE") or (
        os.environ["REDIS_URL"] if os.environ.get("REDIS_URL") else "memory://"
    )
    LOGIN_LIMIT_ACCOUNT_IP = "5 per 5 minutes"     # one account from one address
    LOGIN_LIMIT_IP = "30 per 15 minutes"           # one address, any account
    LOGIN_LIMIT_ACCOUNT = "50 per hour"            # one account, any address (distributed guessing)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Secure is decided per request (see portal.auth.sessions); forcing it here
    # would make the cookie vanish on a plain-HTTP local install.
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "") == "1"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    # Server-side sessions (Flask-Session): in the portal's database, or in Redis when REDIS_URL
    # is set. The cookie lasts while the browser is open; the data 12 h after the last request.
    SESSION_TYPE = os.environ.get("SESSION_TYPE") or ("redis" if os.environ.get("REDIS_URL") else "sqlalchemy")
    SESSION_PERMANENT = False
    SESSION_KEY_PREFIX = "session:"
    # Expired session rows are deleted by a periodic task (portal/auth/tasks.py), not by a random
    # request as Flask-Session would (one request in a thousand paying for a DELETE).
    SESSION_CLEANUP_SECONDS = 3600
    # A request that changes nothing in its session rewrites the database row (for its 12 h
    # expiry) only when the last write is older than this: one write a minute, not one a page.
    SESSION_REFRESH_SECONDS = 60
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    # Image hosts the Content-Security-Policy allows besides the portal itself (space-separated,
    # e.g. the brand's CDN that decoration banners come from).
    CSP_IMG_HOSTS = tuple(os.environ.get("CSP_IMG_HOSTS", "").split())

    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("PORTAL_TIMEZONE", "Asia/Shanghai")
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "portal" / "translations")
    LANGUAGES = {"zh_Hans_CN": "简体中文", "en": "English"}

    # Derived data kept between requests (portal/kernel/cache.py): in Redis when REDIS_URL is set,
    # so every worker drops an entry at once; else in the process's memory (the embedded install).
    CACHE_TYPE = os.environ.get("CACHE_TYPE") or ("RedisCache" if os.environ.get("REDIS_URL") else "SimpleCache")
    CACHE_REDIS_URL = os.environ.get("REDIS_URL", "")
    CACHE_KEY_PREFIX = "portal:cache:"
    CACHE_DEFAULT_TIMEOUT = 300

    # Background jobs (see portal/jobs.py): Celery on Redis when REDIS_URL is set, else a thread.
    JOBS_BACKEND = os.environ.get("JOBS_BACKEND") or ("celery" if os.environ.get("REDIS_URL") else "thread")
    JOBS_RAISE = False
    CELERY_BROKER_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    CELERY_QUEUE = os.environ.get("CELERY_QUEUE", "portal")
    PUSH_BATCH_SIZE = 2000
    # A running push (or rollback) whose heartbeat is older than this is taken as dead and resumed
    # by the stall check, which runs every PUSH_STALL_CHECK_SECONDS: resumed within a minute.
    PUSH_STALL_SECONDS = 40
    PUSH_STALL_CHECK_SECONDS = 15
    # Redis hands an unacknowledged job (its worker died) to another worker after this long.
    CELERY_VISIBILITY_TIMEOUT = 600

    PASSWORD_HASH_METHOD = "scrypt"
    STORES_PER_PAGE = 50
    # Where the image space keeps its pictures (default: instance/uploads/media), like
    # GOODS_UPLOAD_DIR for goods pictures.
    MEDIA_UPLOAD_DIR = os.environ.get("MEDIA_UPLOAD_DIR", "")
    IMPORT_MAX_ROWS = 20000

    # Encryption of personal data and API secrets at rest (portal/kernel/crypto.py): required in
    # production; the embedded install keeps generated ones in DATA_KEYS_FILE.
    DATA_KEYS = os.environ.get("DATA_KEYS", "")
    DATA_HASH_KEY = os.environ.get("DATA_HASH_KEY", "")
    DATA_KEYS_FILE: str | None = None

    # The ingestion API (portal/ingest, portal/api/events.py): event ids are remembered this many
    # days for idempotency (at least 7), purged every INBOX_PURGE_SECONDS; a rotated API credential
    # stays valid this many hours beside the new one.
    INBOX_KEEP_DAYS = int(os.environ.get("INBOX_KEEP_DAYS", "30"))
    INBOX_PURGE_SECONDS = 3600
    API_KEY_OVERLAP_HOURS = float(os.environ.get("API_KEY_OVERLAP_HOURS", "24"))

    # Live rooms (portal/live/providers.py): "fake" records the calls (demo, tests); "wechat" uses
    # mini-program live and the 视频号助手 API with these credentials. Statuses are moved by the
    # clock and synced from the provider every LIVE_SYNC_SECONDS.
    LIVE_PROVIDER = os.environ.get("LIVE_PROVIDER", "fake")
    WECHAT_APP_ID = os.environ.get("WECHAT_APP_ID", "")
    WECHAT_APP_SECRET = os.environ.get("WECHAT_APP_SECRET", "")
    WECHAT_CHANNELS_APP_ID = os.environ.get("WECHAT_CHANNELS_APP_ID", "")
    WECHAT_CHANNELS_APP_SECRET = os.environ.get("WECHAT_CHANNELS_APP_SECRET", "")
    LIVE_SYNC_SECONDS = 60
    # Live rooms' counters (portal/live/counters.py): aggregated in Redis when REDIS_URL is set,
    # else in the process, and written to the database at most once per LIVE_FLUSH_SECONDS.
    LIVE_COUNTERS = os.environ.get("LIVE_COUNTERS") or ("redis" if os.environ.get("REDIS_URL") else "memory")
    LIVE_FLUSH_SECONDS = float(os.environ.get("LIVE_FLUSH_SECONDS", "0.25"))
    LIVE_FLUSH_TIMER = True
    LIVE_FLUSH_CHECK_SECONDS = 5          # the periodic safety net (portal/live/tasks.py)
    LIVE_REDIS_PREFIX = os.environ.get("LIVE_REDIS_PREFIX", "portal:live:")
    # Live reminders and invitations (portal/live/reminders.py): who sends the outbox — "log" (the
    # default: a line per call), "wechat" (subscribe messages) or "sms" — with its settings.
    LIVE_REMINDER_SENDER = os.environ.get("LIVE_REMINDER_SENDER", "log")
    LIVE_WECHAT_APPID = os.environ.get("LIVE_WECHAT_APPID", "")
    LIVE_WECHAT_SECRET = os.environ.get("LIVE_WECHAT_SECRET", "")
    LIVE_WECHAT_TEMPLATE_ID = os.environ.get("LIVE_WECHAT_TEMPLATE_ID", "")
    LIVE_WECHAT_PAGE = os.environ.get("LIVE_WECHAT_PAGE", "pages/live/index")
    LIVE_SMS_URL = os.environ.get("LIVE_SMS_URL", "")
    LIVE_SMS_KEY = os.environ.get("LIVE_SMS_KEY", "")
    LIVE_SMS_TEMPLATE = os.environ.get("LIVE_SMS_TEMPLATE", "")


class DevelopmentConfig(Config):
    """The embedded install (the default, what .ci/demo runs)."""
    DEBUG = False
    SECRET_KEY_FILE = str(INSTANCE / "secret_key")
    DATA_KEYS_FILE = str(INSTANCE / "data_keys.json")


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    DATA_KEYS = "dGVzdC1kYXRhLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE="
    DATA_HASH_KEY = "test-hash-key-0123456789"
    SQLALCHEMY_DATABASE_URI = _database_url(
        os.environ.get("TEST_DATABASE_URL", "sqlite:///:memory:")
    )
    LOGIN_THROTTLE_STORAGE = "memory://"
    SESSION_TYPE = "sqlalchemy"
    CACHE_TYPE = "SimpleCache"        # per test process; the wipe empties it
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"   # fast hashing keeps the suite quick
    JOBS_BACKEND = "eager"
    JOBS_RAISE = True
    LIVE_COUNTERS = "memory"          # the Redis tests make an aggregator with a prefix of their own
    SERVER_NAME = None
    LIVE_PROVIDER = "fake"
    # Goods pictures of the tests go to a throw-away folder, not the instance folder.
    GOODS_UPLOAD_DIR = os.path.join(tempfile.gettempdir(), "portal-test-uploads", "goods")
    MEDIA_UPLOAD_DIR = os.path.join(tempfile.gettempdir(), "portal-test-uploads", "media")


CONFIGS = {"development": DevelopmentConfig, "production": Config, "test": TestConfig}
