"""Settings from the environment, with defaults that run the demo on a laptop."""

import os


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Read once at app creation; tests pass overrides to create_app()."""

    def __init__(self, instance_path: str) -> None:
        env = os.environ
        # Unset: a random key kept in instance/ on a laptop; required (32+ characters) in
        # production, i.e. with PORTAL_ENV=production or an https PORTAL_BASE_URL.
        self.SECRET_KEY = env.get("SECRET_KEY") or None
        self.PORTAL_ENV = env.get("PORTAL_ENV", "development").strip().lower()
        self.SQLALCHEMY_DATABASE_URI = env.get(
            "DATABASE_URL", "sqlite:///" + os.path.join(instance_path, "portal.sqlite")
        )
        self.PORTAL_BASE_URL = env.get("PORTAL_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        # None: decided in create_app from the final PORTAL_BASE_URL (Secure unless the
        # laptop's plain http default).
        self.SESSION_COOKIE_SECURE = (
            _flag("SESSION_COOKIE_SECURE") if "SESSION_COOKIE_SECURE" in env else None
        )
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        # Counsellors work at a desk others may walk up to; beneficiaries pay for each
        # sign-in with an SMS and mostly use their own phone.
        self.COUNSELLOR_IDLE_MINUTES = int(env.get("COUNSELLOR_IDLE_MINUTES", "30"))
        self.COUNSELLOR_SESSION_HOURS = int(env.get("COUNSELLOR_SESSION_HOURS", "12"))
        self.BENEFICIARY_IDLE_MINUTES = int(env.get("BENEFICIARY_IDLE_MINUTES", str(7 * 24 * 60)))
        self.BENEFICIARY_SESSION_DAYS = int(env.get("BENEFICIARY_SESSION_DAYS", "30"))
        # The cookie's own life: the longest session; the server ends shorter ones.
        self.PERMANENT_SESSION_LIFETIME = (
            60
            * 60
            * 24
            * max(self.BENEFICIARY_SESSION_DAYS, 1 + self.COUNSELLOR_SESSION_HOURS // 24)
        )
        self.MAX_CONTENT_LENGTH = 1024 * 1024

        self.SMS_BACKEND = env.get("SMS_BACKEND", "console")
        self.TWILIO_ACCOUNT_SID = env.get("TWILIO_ACCOUNT_SID", "")
        self.TWILIO_AUTH_TOKEN = env.get("TWILIO_AUTH_TOKEN", "")
        self.TWILIO_FROM = env.get("TWILIO_FROM", "")
        self.TWILIO_MESSAGING_SERVICE_SID = env.get("TWILIO_MESSAGING_SERVICE_SID", "")
        # Empty means the client's own default; tests point it at a fake on 127.0.0.1.
        self.TWILIO_API_BASE = env.get("TWILIO_API_BASE", "")
        self.WEBHOOK_ALLOW_INSECURE = _flag("WEBHOOK_ALLOW_INSECURE")
        # After this, a message a worker claimed but never finished is taken up again
        # (after asking Twilio whether it already has it).
        self.SMS_CLAIM_TIMEOUT_SECONDS = float(env.get("SMS_CLAIM_TIMEOUT_SECONDS", "300"))

        # A shared store (redis://127.0.0.1:6379) is needed once several workers serve the
        # site; memory:// is right for one process on a laptop.
        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_HEADERS_ENABLED = True
        # Always set: Flask-Limiter would otherwise keep the value of the last app it served.
        self.RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", "1")
        self.SIGN_IN_CODE_LIMITS_PER_NUMBER = env.get(
            "SIGN_IN_CODE_LIMITS_PER_NUMBER", "3 per 15 minutes;10 per day"
        )
        # Per IPv4 address or IPv6 /64: a carrier puts hundreds of phones behind one IPv4
        # address, and a France Travail agency's Wi-Fi serves a whole workshop.
        self.SIGN_IN_CODE_LIMITS_PER_IP = env.get("SIGN_IN_CODE_LIMITS_PER_IP", "300 per hour")
        self.PASSWORD_LIMITS = env.get("PASSWORD_LIMITS", "10 per 15 minutes")
        self.API_RATE_LIMIT = env.get("API_RATE_LIMIT", "600 per minute")
        self.API_RATE_LIMIT_PER_ADDRESS = env.get("API_RATE_LIMIT_PER_ADDRESS", "3000 per minute")
        self.WEBHOOK_TIMEOUT_SECONDS = float(env.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
        # Number of reverse proxies in front of the app whose X-Forwarded-* headers to trust.
        self.PROXY_COUNT = int(env.get("PROXY_COUNT", "0") or 0)

        # What the public pages state (legal notice, personal data, accessibility, help):
        # each deployment sets its own. HELP_PHONES: "Name=03 88 76 67 67;Other=02 98 …".
        self.PUBLISHER_NAME = env.get("PUBLISHER_NAME", "Portail SPI (démonstration)")
        self.PUBLISHER_ADDRESS = env.get("PUBLISHER_ADDRESS", "")
        self.PUBLICATION_DIRECTOR = env.get("PUBLICATION_DIRECTOR", "")
        self.HOSTING_PROVIDER = env.get("HOSTING_PROVIDER", "")
        self.DPO_CONTACT = env.get("DPO_CONTACT", "")
        self.ACCESSIBILITY_CONTACT = env.get("ACCESSIBILITY_CONTACT", "")
        self.HELP_PHONES = env.get("HELP_PHONES", "")
        # How long data is kept: `flask purge` (daily in the worker) applies these, and
        # /donnees-personnelles states them.
        self.RETENTION_SIGN_IN_CODE_HOURS = int(env.get("RETENTION_SIGN_IN_CODE_HOURS", "24"))
        self.RETENTION_SMS_BODY_DAYS = int(env.get("RETENTION_SMS_BODY_DAYS", "90"))
        self.RETENTION_WEBHOOK_ATTEMPT_DAYS = int(env.get("RETENTION_WEBHOOK_ATTEMPT_DAYS", "90"))
        self.RETENTION_EVENT_DATA_MONTHS = int(env.get("RETENTION_EVENT_DATA_MONTHS", "13"))
        self.RETENTION_AUDIT_MONTHS = int(env.get("RETENTION_AUDIT_MONTHS", "12"))
        self.DORMANT_PERSON_MONTHS = int(env.get("DORMANT_PERSON_MONTHS", "24"))

        self.BABEL_DEFAULT_LOCALE = "fr"
        self.BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
        self.LANGUAGES = {"fr": "Français", "en": "English", "ar": "العربية"}
