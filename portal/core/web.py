"""Answering a page or, for htmx, only the fragment it swaps; redirects that stay home."""

from urllib.parse import urlsplit

from flask import Response, redirect, render_template, request


def page_or_fragment(page: str, fragment: str, status: int = 200, **context) -> tuple[str, int]:
    """The whole page without JavaScript; the fragment alone when htmx asked."""
    return render_template(fragment if request.htmx else page, **context), status


def go_to(url: str) -> Response:
    """A redirect that htmx follows as a full page load (a 302 would be swapped in place)."""
    if request.htmx:
        return Response(status=200, headers={"HX-Redirect": url})
    return redirect(url)


def local_url(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default`: a `next=` or a referrer
    never sends anyone to another site (open redirect)."""
    if not target:
        return default
    target = target.replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if parts.netloc == request.host and parts.scheme in ("http", "https"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
        return default
    if target.startswith("/") and not target.startswith("//"):
        return target
    return default


def back_or(default: str) -> str:
    """The page the request came from when it is on this site, else `default`."""
    return local_url(request.referrer, default)
