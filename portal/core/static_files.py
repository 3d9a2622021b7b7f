"""Answers that travel light: compressed where the browser accepts it (Flask-Compress),
and static files under content-hashed names kept for a year (Flask-Static-Digest).

`./scripts/setup` runs `flask digest compile`, which writes `name-<md5>.ext` beside each
static file and a manifest; `static_url_for` then links the hashed name. A hashed file
never changes, so the browser keeps it without asking again; a plain name (no manifest
yet, on a laptop) is revalidated each time as before.
"""

import hashlib
import logging
import os

from flask import Flask, Response, request

from portal.extensions import compress, static_digest

logger = logging.getLogger(__name__)

A_YEAR = 365 * 24 * 60 * 60


def _matches_the_files(folder: str | None, manifest: dict[str, str]) -> bool:
    """Whether each hashed name still carries the md5 of its file (a few small files:
    read once, when the app starts)."""
    for name, hashed_name in manifest.items():
        try:
            with open(os.path.join(folder or "", name), "rb") as handle:
                digest = hashlib.md5(handle.read(), usedforsecurity=False).hexdigest()
        except OSError:
            return False
        if digest not in hashed_name:
            return False
    return True


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    # Static files are sent as streams: the same two, gzip for the browsers without br.
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])
    # Compressed when served: no .gz copies to keep in step with the files.
    app.config.setdefault("FLASK_STATIC_DIGEST_COMPRESSION", [])
    compress.init_app(app)
    static_digest.init_app(app)
    manifest = static_digest.manifests.get("static", {})
    if not _matches_the_files(app.static_folder, manifest):
        # A file changed since `flask digest compile`: its hashed copy is stale. Plain
        # names serve the files as they are now (revalidated) until setup runs again.
        logger.warning("static files changed since `flask digest compile`: run ./scripts/setup")
        manifest.clear()
    hashed = frozenset(manifest.values())

    @app.after_request
    def keep_hashed_files(response: Response) -> Response:
        if (
            request.endpoint == "static"
            and response.status_code == 200
            and (request.view_args or {}).get("filename") in hashed
        ):
            response.cache_control.public = True
            response.cache_control.max_age = A_YEAR
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
        return response
