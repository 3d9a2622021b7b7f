"""create-counsellor takes its password from a hidden prompt or stdin; reset-2fa."""

import pytest

from portal.auth import two_factor
from portal.core.hashing import verify_secret
from portal.extensions import db
from portal.organisations.services import counsellor_by_email
from tests.factories import make_counsellor, make_organisation

GOOD = "marmotte-escalier-violon-7"


@pytest.fixture
def organisation(app):
    return make_organisation("bas-rhin")


def _create(runner, *options, input=None):
    return runner.invoke(
        args=["create-counsellor", "bas-rhin", "claire@example.org", "Claire Muller", *options],
        input=input,
    )


def test_without_password_option_a_hidden_prompt_asks_twice(runner, organisation):
    result = _create(runner, input=f"{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert "Password" in result.output and "Password again" in result.output
    assert GOOD not in result.output  # hidden: not echoed
    assert verify_secret(counsellor_by_email("claire@example.org").password_hash, GOOD)


def test_the_prompt_asks_again_when_the_two_entries_differ(runner, organisation):
    result = _create(runner, input=f"{GOOD}\nsomething else\n{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output or "must match" in result.output
    assert verify_secret(counsellor_by_email("claire@example.org").password_hash, GOOD)


def test_password_stdin_reads_one_line(runner, organisation):
    result = _create(runner, "--password-stdin", input=f"{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output
    assert "Warning" not in result.output
    assert verify_secret(counsellor_by_email("claire@example.org").password_hash, GOOD)


def test_password_on_the_command_line_still_works_with_a_warning(runner, organisation):
    result = _create(runner, "--password", GOOD)
    assert result.exit_code == 0, result.output
    assert "shell history" in result.stderr
    assert counsellor_by_email("claire@example.org") is not None


def test_a_weak_password_is_refused_in_plain_french(runner, organisation):
    result = _create(runner, "--password-stdin", input="azertyuiopqs\n")
    assert result.exit_code != 0
    assert "trop facile à deviner" in result.output
    named = _create(runner, "--password-stdin", input="Claire et la mer 2026\n")
    assert "ni votre nom" in named.output
    assert counsellor_by_email("claire@example.org") is None


def test_both_ways_at_once_is_a_usage_error(runner, organisation):
    result = _create(runner, "--password", GOOD, "--password-stdin", input=f"{GOOD}\n")
    assert result.exit_code == 2
    assert counsellor_by_email("claire@example.org") is None


def test_reset_2fa_turns_two_step_off_and_ends_sessions(runner, app):
    counsellor = make_counsellor(is_admin=True, email="boss@example.org")
    token = counsellor.session_token
    assert counsellor.has_two_step
    result = runner.invoke(args=["reset-2fa", "Boss@Example.org"])
    assert result.exit_code == 0, result.output
    db.session.refresh(counsellor)
    assert not counsellor.has_two_step and counsellor.totp_secret is None
    assert counsellor.session_token != token
    assert two_factor.recovery_codes_left(counsellor) == 0


def test_reset_2fa_of_an_unknown_email_fails(runner, app):
    result = runner.invoke(args=["reset-2fa", "nobody@example.org"])
    assert result.exit_code != 0
    assert "no counsellor" in result.output
