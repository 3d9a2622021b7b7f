"""Scans every log record of a test run for personal data, as the loggers emit it.

Installed first on the root logger by tests/conftest.py for the whole session; the run
fails at its end if any record at INFO or above (the portal's default level) shows a
phone number in E.164 form, a sign-in code, a sign-in link's token or an API key.

It reads the records before the portal's safety-net filter (portal/core/log_privacy.py)
would rewrite them: what it checks is that nothing logs such data in the first place.
Its patterns are written here, apart from the filter's, on purpose.
"""

import logging
import logging.config
import re
from contextlib import contextmanager

# The laptop demo's SMS backend prints the message (number and code) by design; the
# tests that use it are the only ones to run it (tests/sms/test_outbox.py).
EXEMPT_LOGGERS = {"portal.sms.console"}

PATTERNS = {
    "phone number": re.compile(r"(?<![\w+])(?:\+|%2B)[1-9]\d{7,14}(?!\d)", re.IGNORECASE),
    "sign-in link token": re.compile(r"/connexion/lien/[A-Za-z0-9_-]{10,}"),
    "set-password link token": re.compile(r"/compte/mot-de-passe/[A-Za-z0-9_-]{10,}"),
    "API key": re.compile(r"\bspi_[A-Za-z0-9_-]{12,}"),
    "sign-in code": re.compile(r"\bcode\b[^\d\n]{0,40}(?<!\d)\d{6}(?!\d)", re.IGNORECASE),
}


def find_personal_data(text: str) -> list[str]:
    """The kinds of personal data `text` shows, e.g. ["phone number"]."""
    return [kind for kind, pattern in PATTERNS.items() if pattern.search(text)]


class PersonalDataScanner(logging.Handler):
    """Counts every record and keeps those at INFO or above that show personal data."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.seen = 0
        self.findings: list[str] = []

    def handle(self, record: logging.LogRecord) -> bool:
        # Handler.handle would first run the filters create_app() puts on every root
        # handler, this one included: skipped, so that the record is read as logged.
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.seen += 1
        if record.levelno < logging.INFO or record.name in EXEMPT_LOGGERS:
            return
        try:
            text = self.format(record)
        except Exception:  # a malformed logging call: not this scanner's business
            return
        kinds = find_personal_data(text)
        if kinds:
            self.findings.append(f"{', '.join(kinds)} in {text[:300]!r}")

    def report(self) -> str:
        return (
            f"{len(self.findings)} log line(s) at INFO or above show personal data "
            f"(of {self.seen} records):\n" + "\n".join(self.findings[:20])
        )


SCANNER = PersonalDataScanner()


def install() -> None:
    """First on the root logger (before pytest's own handlers), root at INFO as in
    production (create_app's logging.basicConfig), not pytest's WARNING; and kept so
    whenever Alembic runs in the tests' process (see `logging_kept`)."""
    root = logging.getLogger()
    if SCANNER not in root.handlers:
        root.handlers.insert(0, SCANNER)
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)
    if not getattr(logging.config.fileConfig, "keeps_logging", False):
        file_config = logging.config.fileConfig

        def kept_file_config(*args, **kwargs):
            with logging_kept():
                return file_config(*args, **kwargs)

        kept_file_config.keeps_logging = True
        logging.config.fileConfig = kept_file_config


@contextmanager
def logging_kept():
    """Runs the block without letting it reconfigure logging.

    At each upgrade (the schema fixture, `flask init-db` in tests/core/test_commands.py)
    migrations/env.py calls logging.config.fileConfig(alembic.ini), which replaces the
    root logger's handlers (this scanner's included), sets it to WARNING and disables
    every logger that exists at that moment (all of portal's): for the rest of the run
    nothing they log would be seen, by this scanner, caplog or anyone.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    loggers = [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.disabled
    ]
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for logger in loggers:
            logger.disabled = False
