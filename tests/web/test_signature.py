"""callguard.web.signature: callguard's signature check agrees with twilio's RequestValidator."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import HMAC_SHA1, HMAC_SHA256, RequestValidator
from werkzeug.datastructures import MultiDict

from callguard.web.signature import SignatureValidator, compute_signature

TOKEN = "12345678901234567890123456789012"
ACCOUNT = "AC00000000000000000000000000000001"

names = st.text(alphabet=st.sampled_from("AbcXyz_09é"), min_size=1, max_size=8)
values = st.text(max_size=20)
pairs = st.lists(st.tuples(names, values), max_size=8)
urls = st.sampled_from(["https://example.com/voice", "https://example.com:8443/voice?x=1&y=é", "http://h/p?q"])


@settings(max_examples=300, deadline=None)
@given(urls, pairs, st.sampled_from([None, HMAC_SHA1, HMAC_SHA256, "hmac_sha256"]))
def test_the_signature_is_twilios_for_any_parameters(url: str, items: list[tuple[str, str]], algorithm: str | None) -> None:
    """Repeated names, repeated values, unicode: the same signature as twilio-python computes."""
    twilio = RequestValidator(TOKEN)
    multi = MultiDict(items)
    assert compute_signature(twilio.token, url, multi, algorithm) == twilio.compute_signature(url, multi, algorithm)
    plain = dict(items)
    assert compute_signature(twilio.token, url, plain, algorithm) == twilio.compute_signature(url, plain, algorithm)


def test_a_request_twilio_signed_verifies_and_a_changed_one_does_not() -> None:
    validator = SignatureValidator({}, (TOKEN,))
    params = MultiDict([("AccountSid", ACCOUNT), ("To", "+14155550123"), ("Digits", "1"), ("Digits", "2")])
    url = "https://example.com/voice/outbound"
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    assert validator.signer(ACCOUNT, url, params, signature) is not None
    assert validator.signer(ACCOUNT, "https://example.com:443/voice/outbound", params, signature) is not None  # the other port form
    changed = MultiDict([*params.items(multi=True), ("To", "+19005550100")])
    assert validator.signer(ACCOUNT, url, changed, signature) is None
    assert validator.signer(ACCOUNT, url, params, "é" + signature[1:]) is None  # not ASCII: no match, no error
    assert validator.signer(ACCOUNT, url, params, signature, settings_header="algorithm=HMAC_MD5") is None
