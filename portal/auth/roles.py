"""Who may see which page: one decorator, checked over every route by the tests."""

from collections.abc import Callable
from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

BENEFICIARY = "beneficiary"
COUNSELLOR = "counsellor"
ADMIN = "admin"
STAFF = (COUNSELLOR, ADMIN)


def public(view: Callable) -> Callable:
    """Marks a page anyone may open; every other page must name its roles."""
    view.allowed_roles = None
    return view


def roles_required(*roles: str) -> Callable:
    """Lets through only signed-in users of one of `roles`.

    Nobody signed in goes to the sign-in page of the kind of account the page is for;
    a signed-in user of another kind gets a 403 (a counsellor never sees a
    beneficiary's own pages, and the reverse).
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                endpoint = "auth.phone" if BENEFICIARY in roles else "auth.counsellor_sign_in"
                return redirect(url_for(endpoint, next=request.full_path.rstrip("?")))
            if current_user.portal_role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorator
