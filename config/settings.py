"""Settings, read from the environment.

DATABASE_URL   default: a SQLite file in the project (WAL mode), the embedded default
REDIS_URL      default: none; tasks then run in-process after commit
SECRET_KEY     default: a random key kept in var/secret_key (set it in production)
DEBUG          "1"/"true" to turn on (development only)
DEMO_MODE      "1" for the one-machine plain-HTTP demo (`make demo`); without it and DEBUG
               the product is in production posture: HTTPS only
ALLOWED_HOSTS  comma-separated
"""

import ipaddress
import os
import secrets
from datetime import time, timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_networks(name: str) -> list[str]:
    """Comma-separated IP addresses or CIDR networks; a bad entry stops the start naming it,
    rather than being trusted, or ignored, silently."""
    entries = [e.strip() for e in os.environ.get(name, "").split(",") if e.strip()]
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{name}: {entry!r} is neither an IP address nor a network") from None
    return entries


def env_hours(name: str, default: str) -> tuple[time, time]:
    """ "HH:MM-HH:MM", opening before closing, local time."""
    value = os.environ.get(name, default)
    try:
        opening, closing = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not HH:MM-HH:MM") from None
    if opening >= closing:
        raise ValueError(f"{name}: {value!r} closes before it opens")
    return opening, closing


def _local_secret_key() -> str:
    """The embedded default keeps a random key in var/ (never committed) across restarts."""
    path = BASE_DIR / "var" / "secret_key"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)
# DESIGN.md, "Settings": the one-machine demo over plain HTTP, where seed_demo may create its
# known passwords. Neither this nor DEBUG: production posture (HTTPS only, below).
DEMO_MODE = env_bool("DEMO_MODE", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or _local_secret_key()

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
if not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

INSTALLED_APPS = [
    # Django's admin, on a site that also wants the second factor (config.admin_site).
    "config.admin_site.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "bootstrap",
    "guardian",
    "pgtrigger",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "workflow",
    "submissions",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RequestGuardMiddleware",
    # Django's, except that a background poll (config.middleware.background_poll) does not
    # renew the session: only what the user does counts towards the idle limit.
    "config.middleware.IdleSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A signed-in user's chosen language (notifications.language) over the browser's.
    "notifications.language.UserLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session gave a one-time code (django-otp).
    "django_otp.middleware.OTPMiddleware",
    # Holds back a session that still owes its second factor (config.two_factor).
    "config.two_factor.SecondFactorMiddleware",
    # The workflow versions are read once a request (workflow.machine.catalog).
    "workflow.machine.catalog_per_request",
    "django.contrib.messages.middleware.MessageMiddleware",
    # An expired password (PASSWORD_MAX_AGE_DAYS) leads every page to the change page.
    "config.passwords.PasswordExpiryMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    # Turns a sign-in refused by the throttle into its 429 (config.login.lockout_response).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "notifications.context_processors.bell",
                "submissions.views.navigation.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

SQLITE_PATH = Path(os.environ.get("SQLITE_PATH", BASE_DIR / "db.sqlite3"))
_database_url = os.environ.get("DATABASE_URL", f"sqlite:///{SQLITE_PATH}")
_SQLITE = _database_url.startswith("sqlite:")
DATABASES = {
    "default": dj_database_url.parse(
        _database_url,
        # A new PostgreSQL connection per request cost ~10 ms of every action (issue 12):
        # keep each process's connection for a minute, checked before reuse so that a
        # database restart costs one retry, not an error. SQLite opens in microseconds,
        # and a file swapped under a kept connection (a restore) would go unnoticed: 0.
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0 if _SQLITE else 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] in (
    "django.db.backends.postgresql",
    "django.db.backends.postgresql_psycopg2",
):
    OPTIONS = DATABASES["default"].setdefault("OPTIONS", {})
    if not env_bool("DB_JIT"):
        # PostgreSQL's JIT compiled the list queries for 700-800 ms at 100,000 texts, where
        # they run in 170-310 ms without (issue 12): short OLTP queries never repay it.
        OPTIONS["options"] = "-c jit=off"
    # Django's own statements are never prepared (its cursors bind on the client). A
    # threshold no statement reaches prepares only the few `workflow.prepared` asks for;
    # None prepares nothing, behind a pooler that cannot keep a session's prepared
    # statements (PgBouncer in transaction mode before 1.21).
    OPTIONS["prepare_threshold"] = 2**31 - 1 if env_bool("DB_PREPARED_STATEMENTS", True) else None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue on busy_timeout
        # instead of one failing with "database is locked" when it upgrades its lock.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_PATH") or None}
    # SQLite keeps the inbox index without its covering columns (PostgreSQL counts a
    # stage's waiting texts from them): a slower count at a size SQLite is not meant for.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth and permissions -------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username and address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # no anonymous user row: anonymous visitors see nothing

# Password rules (workflow.passwords), for every way a password is chosen: the change page,
# the API, the admin. 等保 asks for complexity, no reuse and (optionally) a maximum age.
# At least this many characters, from at least this many of the four classes: lower case,
# upper case, digits, symbols (anything else, a Chinese character too).
PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 10)
PASSWORD_MIN_CLASSES = env_int("PASSWORD_MIN_CLASSES", 3)
# None of the last this many passwords (the current one included) may be chosen again.
PASSWORD_HISTORY = env_int("PASSWORD_HISTORY", 5)
# A password older than this many days must be changed before anything else is done: pages
# lead to the change page, the API answers 403 "password_expired". 0 (the default): never.
PASSWORD_MAX_AGE_DAYS = env_int("PASSWORD_MAX_AGE_DAYS", 0)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "workflow.passwords.CharacterClassValidator"},
    # Also keeps the history that expiry reads (its password_changed hook): keep it listed
    # even with PASSWORD_HISTORY=0.
    {"NAME": "workflow.passwords.PasswordHistoryValidator"},
]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
# A session ends after SESSION_COOKIE_AGE seconds without a request of the user's (a page's
# own background polls do not count), and with the browser.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", 2 * 3600))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# After this many failed sign-ins for one username from one address within the window,
# further attempts of that pair are refused until the window has passed (config.login).
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", 5))
LOGIN_FAILURE_WINDOW = int(os.environ.get("LOGIN_FAILURE_WINDOW", 15 * 60))
# django-axes keeps the counts in the database, which every web process shares and which
# survives a restart; the pair (not the username alone, not the address alone) is the key.
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_FAILURE_WINDOW)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A refused attempt during a lockout neither extends it nor grows its row.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "config.addresses.client_address"
AXES_USERNAME_CALLABLE = "config.login.throttled_username"
AXES_LOCKOUT_CALLABLE = "config.login.lockout_response"
# Successful sign-ins are not kept in axes' own table; failures go to the audit log.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# The reverse proxies in front of the web processes (addresses or CIDR networks,
# comma-separated). Only a request whose REMOTE_ADDR is one of them has its X-Forwarded-For
# read, and the client is the right-most hop that is not one of them (config.addresses), for
# the throttle, the sign-in events and the audit. Empty (the default): no header is trusted,
# since any client can send one and a forged address would dodge the throttle.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
# Scripts' tokens (workflow.tokens) end when unused for TOKEN_IDLE_WORKING_HOURS of working
# time (a script left over a weekend keeps its token; one forgotten for a working day loses
# it), and TOKEN_MAX_AGE_DAYS after they were issued, used or not: a leaked token is good for
# a bounded time. 0 turns either limit off.
TOKEN_IDLE_WORKING_HOURS = env_int("TOKEN_IDLE_WORKING_HOURS", 8)
TOKEN_MAX_AGE_DAYS = env_int("TOKEN_MAX_AGE_DAYS", 30)
# Working time, for the tokens' idle limit: Monday to Friday between these local times.
WORKING_HOURS = env_hours("WORKING_HOURS", "09:00-17:00")
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
# Two-factor sign-in (workflow/twofactor.py says who must). The name authenticator apps show
# beside the account.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "部门预算项目文本审批")
# Recovery codes made at a time (each usable once), for when the phone is not at hand.
TWO_FACTOR_RECOVERY_CODES = env_int("TWO_FACTOR_RECOVERY_CODES", 10)
# How long the password step stays good while the code is asked for (seconds).
TWO_FACTOR_PENDING_SECONDS = env_int("TWO_FACTOR_PENDING_SECONDS", 300)
# seed_demo's users (admin and auditor among them) sign in with their password alone, so that
# `make demo` and scripts against the demo keep working. Only in the demo: whatever the
# environment says, production posture (and DEBUG alone) exempts nobody.
TWO_FACTOR_EXEMPT_DEMO_USERS = DEMO_MODE and env_bool("TWO_FACTOR_EXEMPT_DEMO_USERS", True)

# --- HTTPS ----------------------------------------------------------------------------------
# Production posture (DEBUG off, DEMO_MODE unset) is HTTPS only, so that `check --deploy` is
# clean given only SECRET_KEY and ALLOWED_HOSTS. The demo and development serve plain HTTP
# on one machine: there all of it is off.
HTTPS_ONLY = not (DEBUG or DEMO_MODE)
SECURE_SSL_REDIRECT = HTTPS_ONLY
# Load balancers and compose health checks probe plain HTTP inside the network, and most
# count a redirect as "down"; an anonymous /healthz says only up or down (config.health).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
# HSTS binds every browser that has seen the site for this long. Including subdomains and
# consenting to the browsers' preload list are the domain owner's decisions: turn them off
# (SECURE_HSTS_INCLUDE_SUBDOMAINS=0, SECURE_HSTS_PRELOAD=0) if other sites under the domain
# still serve plain HTTP; `check --deploy` then says so.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600) if HTTPS_ONLY else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Behind a proxy that terminates TLS: the header it sets to "https" (e.g. X-Forwarded-Proto).
# Set it only if that proxy always overwrites the header, or a client could claim HTTPS.
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + os.environ["SECURE_PROXY_SSL_HEADER"].strip().upper().replace("-", "_"),
        "https",
    )
# /healthz gives its per-part details (database, broker, worker, their errors) to a logged-in
# staff user, or to a monitor sending "Authorization: Bearer <HEALTHZ_TOKEN>"; anyone else
# gets only up or down. Empty: no token is accepted.
HEALTHZ_TOKEN = os.environ.get("HEALTHZ_TOKEN", "")

# --- Internationalisation -------------------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere: everything the pages run comes from /static/.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# The API docs (/api/docs/): the same, except for the one inline <style> block of
# drf-spectacular's Swagger UI page, allowed by its hash (tests/test_api_docs.py recomputes it
# from the page, so an upgrade that changes the block fails there, not only in a browser).
# Its start-up script is a file of its own (SpectacularSwaggerSplitView, config/urls.py).
API_DOCS_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"
)
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve straight from the apps' static folders too, so the embedded default needs no
# collectstatic step.
WHITENOISE_USE_FINDERS = True
# Static files (admin, the API docs' Swagger UI) are served by the app itself: no CDN.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Project texts -------------------------------------------------------------------------

# The county's format of a project code (项目编码), a regular expression the whole code must
# match; unique per department and budget year. The default takes letters, digits and
# hyphens, as the 预算管理一体化 systems' codes are written.
PROJECT_CODE_PATTERN = os.environ.get("PROJECT_CODE_PATTERN", r"[0-9A-Za-z][0-9A-Za-z-]{0,39}")

# --- Limits ---------------------------------------------------------------------------------

# A request body larger than this is refused with 413 before it is read.
MAX_REQUEST_BYTES = int(os.environ.get("MAX_REQUEST_BYTES", 16 * 1024 * 1024))
# An import file larger than this is refused with 413 (the sample is 25 KB).
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", 5 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES
# What one import file may hold once read (submissions.importer.ImportLimits; each is
# refused with 413 naming it), so that no file within IMPORT_MAX_BYTES costs more than
# about a second and 100 MB (the costliest .docx within these defaults: 0.55 s, ~100 MB).
# The .docx of both sample texts has 17 parts, inflates to 0.9 MB and holds 19,000 XML
# elements, mostly python-docx's styles. IMPORT_MAX_TEXTS texts in Word's verbose XML take
# ~10 MB and images inflate ~1x, so 25 MB leaves room; a zip bomb stops here, before the
# rest of it is inflated.
IMPORT_MAX_INFLATED_BYTES = env_int("IMPORT_MAX_INFLATED_BYTES", 25 * 1024 * 1024)
# A document has ~20 parts plus one per image, header or footer.
IMPORT_MAX_PARTS = env_int("IMPORT_MAX_PARTS", 200)
# python-docx holds every XML part as a tree (~150 bytes an element); Word writes 10-30
# elements a paragraph, so IMPORT_MAX_TEXTS long texts fit, and the tree stays < 100 MB.
IMPORT_MAX_XML_ELEMENTS = env_int("IMPORT_MAX_XML_ELEMENTS", 500_000)
# The sample's texts run to ~60 lines each; 20,000 leaves room for IMPORT_MAX_TEXTS long
# ones and refuses a file of millions of (blank) lines at once.
IMPORT_MAX_LINES = env_int("IMPORT_MAX_LINES", 20_000)
# Each text becomes a draft with its audit event in one transaction; a department's
# key-area texts for a year number in the tens, so more is a mistake (or an attack).
IMPORT_MAX_TEXTS = env_int("IMPORT_MAX_TEXTS", 100)

# --- API ------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes "not logged in" a 401, not a 403. Our
    # own tokens (hashed, expiring, revocable), not DRF's authtoken.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.token_auth.AccessTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # An expired password (PASSWORD_MAX_AGE_DAYS): 403 "password_expired" (config.passwords).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "config.passwords.PasswordNotExpired",
    ],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "workflow.api_errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "部门预算项目文本审批 API",
    "DESCRIPTION": "Review and approval workflow for county budget project texts.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"StateEnum": "workflow.states.State"},
}

# --- Background work ------------------------------------------------------------------------
# With REDIS_URL, tasks go through Redis to a worker; without it (the embedded default) the
# same tasks run in-process right after the transaction that asked for them commits.

REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# A crashed worker's task runs again (tasks are idempotent), one task at a time per child.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # An unacknowledged task comes back after this long (a worker died holding it).
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    # Fail fast while Redis is down: the outbox keeps the work, the user is not kept waiting.
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "retry_on_timeout": False,
    "max_retries": 0,
    # Look for tasks a killed worker was holding every second (kombu's default is every
    # ten, acting on every tenth look: about 100 s before they come back).
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
# A task running when the broker connection drops is cancelled and redelivered (it is
# idempotent) rather than finishing unacknowledged.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# How often beat runs each sweep (seconds). Nothing is ever scheduled with an ETA: deadlines
# are swept from the database by its own clock.
OUTBOX_SWEEP_SECONDS = env_int("OUTBOX_SWEEP_SECONDS", 15)
# An outbox row handed to the broker but not delivered after this long is handed over again.
OUTBOX_REDISPATCH_SECONDS = env_int("OUTBOX_REDISPATCH_SECONDS", 60)
# The most outbox rows one delivery task turns into notifications in one transaction: the
# rows it was handed, topped up with the oldest others undelivered, so that a burst of
# actions (one small task each) drains in a few transactions rather than one per row.
OUTBOX_BATCH_SIZE = env_int("OUTBOX_BATCH_SIZE", 100)
DEADLINE_SWEEP_SECONDS = env_int("DEADLINE_SWEEP_SECONDS", 300)
# Beat's seal of the audit log: the backstop. Each change is sealed at once after its commit,
# or when its process's AUDIT_SEAL_DELAY_SECONDS window ends (one seal per process and window,
# however many changes), so that an event is
# covered by a seal, in the database and outside it, within seconds; 0 turns that off. Without
# a worker (no REDIS_URL) only `run_sweeps` seals.
CHECKPOINT_SECONDS = env_int("CHECKPOINT_SECONDS", 600)
AUDIT_SEAL_DELAY_SECONDS = env_int("AUDIT_SEAL_DELAY_SECONDS", 3)
DIGEST_HOUR = env_int("DIGEST_HOUR", 8)  # local time of the daily e-mail digest

# Refused attempts: each source (a user, or whoever tries to sign in as an account) records
# this many per stream and window in full; the rest are counted and summarised in one event.
AUDIT_REFUSALS_PER_WINDOW = env_int("AUDIT_REFUSALS_PER_WINDOW", 10)
AUDIT_REFUSAL_WINDOW_SECONDS = env_int("AUDIT_REFUSAL_WINDOW_SECONDS", 600)
# The log is verified in the background this often, incrementally (only what was appended
# since the last verification), so that pages and /api/v1/audit/verify/ answer from the result
# instead of rescanning the whole log per request.
VERIFY_SECONDS = env_int("VERIFY_SECONDS", 60)
# GET /api/v1/audit/verify/ catches up in the request when at most this many events are
# unverified (cheap); beyond that it answers the latest result and leaves the rest to the task.
AUDIT_VERIFY_INLINE_EVENTS = env_int("AUDIT_VERIFY_INLINE_EVENTS", 5000)
# A full verification reads every event (47 s at 555,000): auditors may ask for one (POST
# /api/v1/audit/verify/, the page's button) at most once per this many seconds, whoever asks.
AUDIT_FULL_VERIFY_MIN_SECONDS = env_int("AUDIT_FULL_VERIFY_MIN_SECONDS", 600)
# `GET /api/v1/audit/events/` pages by cursor and counts the matching events only up to this
# many (`count` is null beyond): counting millions of events on every page costs more than
# the number is worth, while a narrow search still gets its exact count (issue 12).
AUDIT_EXACT_COUNT_LIMIT = env_int("AUDIT_EXACT_COUNT_LIMIT", 10_000)

CELERY_BEAT_SCHEDULE = {
    "relay-pending-outbox": {
        "task": "notifications.tasks.sweep_outbox",
        "schedule": OUTBOX_SWEEP_SECONDS,
    },
    "remind-and-escalate": {
        "task": "workflow.tasks.sweep_deadlines",
        "schedule": DEADLINE_SWEEP_SECONDS,
    },
    "seal-audit-log": {
        "task": "workflow.tasks.seal_audit_log",
        "schedule": CHECKPOINT_SECONDS,
    },
    "verify-audit-log": {
        "task": "workflow.tasks.verify_audit_log",
        "schedule": VERIFY_SECONDS,
    },
    "summarise-refusals": {
        "task": "workflow.tasks.summarise_refusals",
        "schedule": DEADLINE_SWEEP_SECONDS,
    },
    "daily-digest": {
        "task": "notifications.tasks.send_digests",
        "schedule": 3600,  # hourly; each user gets at most one digest a day, at DIGEST_HOUR
    },
}

# Deadlines per review stage: {"working_days": n} (Monday to Friday) or {"hours": n}.
# How long a text may wait at a stage comes from its workflow document (`due_days`, working
# days); a stage without one gets DEFAULT_DUE_WORKING_DAYS. STAGE_DUE overrides a stage by
# code with any period workflow.clock.add_period knows, e.g. {"dept_review": {"hours": 7}}.
DEFAULT_DUE_WORKING_DAYS = env_int("DEFAULT_DUE_WORKING_DAYS", 5)
STAGE_DUE: dict[str, dict[str, int]] = {}
# After the reminder, how long until the stage's supervisors (its `supervisor_role`) are told.
ESCALATE_AFTER = {"working_days": env_int("ESCALATE_AFTER_WORKING_DAYS", 2)}

# The audit chain's hash (each new event and checkpoint) and the hash inside the checkpoints'
# HMAC: "sha256" or "sm3" (GB/T 32905, which a 密评 review asks for). Changing either affects
# only what is written next: every row stores its algorithm, so a log that switched verifies.
# `manage.py check` refuses a name it cannot compute (workflow.E101, E102).
AUDIT_DIGEST = os.environ.get("AUDIT_DIGEST", "sha256").strip().lower()
AUDIT_SIGNATURE_DIGEST = os.environ.get("AUDIT_SIGNATURE_DIGEST", "sha256").strip().lower()

# Each audit checkpoint is also appended here, outside the database.
AUDIT_CHECKPOINT_FILE = Path(
    os.environ.get("AUDIT_CHECKPOINT_FILE", BASE_DIR / "var" / "audit-checkpoints.log")
)
# And sent to this witness, which the application cannot rewrite: a syslog receiver on
# another host (syslog://host:514, syslog+tcp://host:601, syslog:///dev/log; see
# workflow.witness). Empty: no witness.
AUDIT_WITNESS_URL = os.environ.get("AUDIT_WITNESS_URL", "")

# --- E-mail ---------------------------------------------------------------------------------

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if not os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "budget-workflow@localhost")
# Seconds the SMTP backend waits for the mail server: a hung server must not hold the sweep.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
# An e-mail whose sending fails (server down, address refused) is tried again by the outbox
# sweep (a digest: by a later hourly digest run) after EMAIL_RETRY_SECONDS, doubling each time
# up to EMAIL_RETRY_MAX_SECONDS, and given up after EMAIL_MAX_ATTEMPTS failures: about 20
# hours of tries with the defaults. A given-up e-mail stays in the admin (通知) with its last
# error, where an administrator can send it again; the in-app notification is never affected.
EMAIL_MAX_ATTEMPTS = env_int("EMAIL_MAX_ATTEMPTS", 12)
EMAIL_RETRY_SECONDS = env_int("EMAIL_RETRY_SECONDS", 60)
EMAIL_RETRY_MAX_SECONDS = env_int("EMAIL_RETRY_MAX_SECONDS", 6 * 3600)
# At most this many immediate e-mails are retried per outbox sweep, the longest due first.
EMAIL_RETRY_BATCH = env_int("EMAIL_RETRY_BATCH", 1000)
# Links in e-mails point here.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Demo -----------------------------------------------------------------------------------

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-pass-2025")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
# The sample file seed_demo imports: shared/ beside the checkout, unless told otherwise.
DEMO_TEXTS = os.environ.get(
    "DEMO_TEXTS", BASE_DIR.parent / "shared" / "data" / "xinping-2025-org-dept-project-texts.txt"
)
