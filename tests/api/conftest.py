"""Assertions of the back-office API contract suite (its builders are in tests/factories.py,
its organisations with their keys in tests/conftest.py)."""

from typing import Any


def assert_problem(response, status: int, field: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem with the contract's members; for a 422, `field` among errors."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert response.mimetype == "application/problem+json", response.headers
    problem = response.get_json(force=True)
    for member in ("type", "title", "detail"):
        assert isinstance(problem.get(member), str) and problem[member], problem
    assert problem["status"] == status, problem
    if status == 422:
        assert isinstance(problem.get("errors"), list) and problem["errors"], problem
        for error in problem["errors"]:
            assert isinstance(error["field"], str) and isinstance(error["message"], str)
            assert error["field"] == "" or error["field"].startswith("/"), error
    if field is not None:
        assert field in [error["field"] for error in problem.get("errors") or []], problem
    return problem
