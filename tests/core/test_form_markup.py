"""The form macro marks as required only the fields that are."""

import re

from flask import render_template_string

from portal.offers.forms import InterestForm, OfferSearchForm

FIELD = '{% from "_macros/forms.html" import field %}{{ field(form.q) }}{{ field(form.lieu) }}'


def test_an_optional_field_is_not_marked_required(app):
    # WTForms writes required="None" for a None flag, which browsers take as required:
    # htmx then refused to send the offer search while the date was empty.
    with app.test_request_context("/offres/?q=x"):
        html = render_template_string(FIELD, form=OfferSearchForm(formdata=None))
    assert "required" not in html
    assert re.search(r'<input[^>]+id="q"', html)


def test_a_required_field_is_marked_required(app):
    template = '{% from "_macros/forms.html" import field %}{{ field(form.postal_code) }}'
    from portal.offers.forms import OfferForm

    with app.test_request_context("/conseiller/offres/nouvelle"):
        html = render_template_string(template, form=OfferForm(formdata=None))
        message = render_template_string(
            '{% from "_macros/forms.html" import field %}{{ field(form.message) }}',
            form=InterestForm(formdata=None),
        )
    assert re.search(r"<input[^>]+required[ >]", html)
    assert 'required="None"' not in html
    assert "required" not in message
