"""SECRET_KEY: required and long in production, random per instance on a laptop.

Whoever knows the key can sign a session cookie for any account. A fixed default in
the code is public, so the portal never uses one: in production (an https base URL or
PORTAL_ENV=production) it refuses to start without a key of at least 32 characters; on
a laptop it makes a random one the first time and keeps it in instance/secret_key, so
the demo needs no set-up and sessions survive a restart.
"""

import logging
import os
import secrets
import tempfile

from flask import Flask

MIN_LENGTH = 32
KEY_FILE = "secret_key"
ENVIRONMENTS = ("development", "production")

logger = logging.getLogger(__name__)


class ConfigurationError(RuntimeError):
    """A setting the portal cannot safely start with; the message says what to set."""


def is_production(config) -> bool:
    return config["PORTAL_ENV"] == "production" or config["PORTAL_BASE_URL"].startswith("https:")


def init_app(app: Flask) -> None:
    config = app.config
    if config["PORTAL_ENV"] not in ENVIRONMENTS:
        raise ConfigurationError(
            f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}, not {config['PORTAL_ENV']!r}."
        )
    key = config.get("SECRET_KEY")
    if is_production(config):
        if not key or len(key) < MIN_LENGTH:
            raise ConfigurationError(
                f"SECRET_KEY is {'too short' if key else 'not set'}: set SECRET_KEY to a random "
                f"value of at least {MIN_LENGTH} characters (for instance the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`), the same "
                "for every worker. It is required when PORTAL_BASE_URL is https or "
                "PORTAL_ENV=production."
            )
        return
    if not key:
        config["SECRET_KEY"] = _instance_key(app.instance_path)


def _instance_key(folder: str) -> str:
    """The key kept in `folder`, made on first use; several workers starting agree on one."""
    path = os.path.join(folder, KEY_FILE)
    try:
        with open(path, encoding="ascii") as file:
            key = file.read().strip()
        if len(key) >= MIN_LENGTH:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    try:
        # Written whole under a temporary name, then linked: a second worker either
        # links first (and this one reads its key) or finds the complete file.
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".secret_key-")
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(key + "\n")
            try:
                os.link(temporary, path)
            except FileExistsError:
                with open(path, encoding="ascii") as file:
                    kept = file.read().strip()
                if len(kept) >= MIN_LENGTH:
                    key = kept
                else:  # an empty or damaged file: replace it
                    os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except OSError as error:
        # A read-only instance folder: still random, but sessions end at each restart.
        logger.warning(
            "could not keep a secret key in %s (%s); using a random one for this run",
            folder,
            error,
        )
    return key
