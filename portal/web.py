"""Answering a page or, for htmx, only the fragment it swaps."""

from flask import Response, redirect, render_template, request


def page_or_fragment(page: str, fragment: str, status: int = 200, **context) -> tuple[str, int]:
    """The whole page without JavaScript; the fragment alone when htmx asked."""
    return render_template(fragment if request.htmx else page, **context), status


def go_to(url: str) -> Response:
    """A redirect that htmx follows as a full page load (a 302 would be swapped in place)."""
    if request.htmx:
        return Response(status=200, headers={"HX-Redirect": url})
    return redirect(url)
