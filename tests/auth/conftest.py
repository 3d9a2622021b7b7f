import re

import pytest


@pytest.fixture
def request_code(browser, fake_twilio):
    """Asks for a code for `typed` and returns the code the SMS carried (or None)."""

    def request(typed: str, expect_sms: bool = True) -> str | None:
        before = len(fake_twilio.messages)
        response = browser.submit("/connexion", {"phone": typed})
        assert response.status_code == 302, response.get_data(as_text=True)
        if not expect_sms:
            return None
        messages = fake_twilio.wait_for(before + 1)
        assert len(messages) == before + 1, "no SMS reached the fake Twilio"
        return re.search(r"\b(\d{6})\b", messages[-1].body).group(1)

    return request
