"""The redactor, table-driven: UK formats that must go, near-misses that must stay."""
from __future__ import annotations

import pytest

from services.redact import is_ni_number, luhn_valid, redact_text

REDACTED = [
    # (what the young person typed, what staff see)
    ("call me on 07700 900123", "call me on [phone]"),
    ("my number is 07700-900-123 thanks", "my number is [phone] thanks"),
    ("ring +44 7700 900123 after 5", "ring [phone] after 5"),
    ("+447700900123", "[phone]"),
    ("home phone 01632 960123", "home phone [phone]"),
    ("try (0121) 496 0000", "try [phone]"),
    ("london 020 7946 0018", "london [phone]"),
    ("call 0300 123 4567", "call [phone]"),
    ("email me at sam.jones+pf@example.co.uk", "email me at [email]"),
    ("I live in WS1 1AN", "I live in [postcode]"),
    ("postcode cb30ap", "postcode [postcode]"),
    ("i live at 12 Park Road now", "i live at [address] now"),
    ("flat 3, 27a Station Street Walsall", "[address] Walsall"),
    ("my ni is AB 12 34 56 C", "my ni is [NI number]"),
    ("ni number tw987654a", "ni number [NI number]"),
    ("born 12/03/2005", "born [date of birth]"),
    ("my dob is 3rd March 2006", "my dob is [date of birth]"),
    ("born on March 3, 2006", "born on [date of birth]"),
    ("card 4111 1111 1111 1111 exp", "card [card] exp"),
    ("5500-0000-0000-0004", "[card]"),
    ("sort code 12-34-56", "sort code [bank details]"),
    ("sort code 123456 account 12345678", "[bank details] [bank details]"),
    ("account number: 12345678", "[bank details]"),
]

KEPT = [
    "the grant is £2,000",
    "can i get 3000 pounds for my flat",
    "I'm 19 and at uni",
    "i left care in 2019",
    "i have 21 days to pay",
    "is it £57.90 a week",
    "my appointment is on 12/03/2027",  # a future date is not a birth date
    "call 999 or Samaritans on 116 123",  # service numbers, not a young person's
    "I got 2 days to find somewhere to live on my road",
    "AA 12 34 56 H",  # H is not a valid NI suffix
    "card number 4111 1111 1111 1112",  # fails the Luhn check
    "room 101",
    "I need £500 to the park fund",
]


@pytest.mark.parametrize("typed, shown", REDACTED)
def test_personal_data_is_redacted(typed, shown):
    assert redact_text(typed) == shown


@pytest.mark.parametrize("typed", KEPT)
def test_near_misses_stay(typed):
    assert redact_text(typed) == typed


@pytest.mark.parametrize("text", ["AA 12 34 56 B", "tw987654a", "AB123456C", "ce 12 34 56 d"])
def test_ni_matcher_accepts_valid_numbers(text):
    assert is_ni_number(text)


@pytest.mark.parametrize("text", ["AA 12 34 56 H", "BG123612A", "FQ 00 00 00 C", "GB 12 34 56 A", "DA123456A", "AO123456A", "ZZ123456A"])
def test_ni_matcher_refuses_invalid_numbers(text):
    assert not is_ni_number(text)


def test_names_are_redacted_only_where_the_bot_asked_for_them():
    text = "It's sam again, Sam Jones. Can Jones the PA ring me?"
    assert redact_text(text, names=["Sam Jones"]) == "It's [name] again, [name]. Can [name] the PA ring me?"
    assert redact_text("sam here", names=[]) == "sam here"


def test_skipped_name_answers_redact_nothing():
    assert redact_text("no I don't want to", names=["no", "skip", None, "x"]) == "no I don't want to"


def test_luhn():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_empty_text():
    assert redact_text(None) == "" and redact_text("") == ""


def test_contact_details_given_to_the_form_are_hidden_in_any_shape():
    text = "yeah its sam at gmail dot com, SAM AT GMAIL DOT COM"
    assert redact_text(text, contacts=["sam at gmail dot com"]) == "yeah its [contact details], [contact details]"
