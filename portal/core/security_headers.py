"""Security headers on every response, and no caching of any page but static files.

A plain after_request hook: the policy is a handful of fixed strings, which a library
(flask-talisman) would only wrap. The templates have no inline script, style or event
handler, and htmx is told not to inject its indicator style nor evaluate code
(templates/base.html, meta htmx-config), so the policy needs no 'unsafe-inline'.
"""

from flask import Flask, Response, current_app, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
# No page uses any of these; nothing the portal embeds gets them either.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
HSTS = "max-age=63072000; includeSubDomains"

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # Browsers older than frame-ancestors (old Android WebViews) know this one.
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    # Browsers ignore HSTS over http; behind a proxy that ends TLS without PROXY_COUNT,
    # request.is_secure is False although people reach the site in https.
    if request.is_secure or current_app.config["PORTAL_BASE_URL"].startswith("https:"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static":
        # Every page may show personal data, and on a shared phone the back button after
        # signing out must not bring it back from the cache: nothing is stored.
        response.headers["Cache-Control"] = "no-store"
    return response
