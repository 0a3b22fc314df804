"""Normalisation of dial strings and classification of numbers (callguard.numbers)."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from callguard.numbers import (
    NumberClassifier,
    RiskCategory,
    RiskPrefix,
    TargetKind,
    classify_number,
    normalize_dial_string,
    shipped_risk_data,
)
from callguard.numbers.classify import _region_and_type
from callguard.numbers.regions import region_name

ALL_TYPES = [
    value for name, value in vars(PhoneNumberType).items() if name.isupper() and isinstance(value, int) and value != PhoneNumberType.UNKNOWN
]


# -- normalisation: the forms a dial can take ---------------------------------------------


@pytest.mark.parametrize(
    "raw, region, prefix, e164",
    [
        ("+14155550123", "US", None, "+14155550123"),
        (" +1 (415) 555-0123 ", "US", None, "+14155550123"),
        ("4155550123", "US", None, "+14155550123"),
        ("1-415-555-0123", "US", None, "+14155550123"),
        ("011 44 20 7946 0000", "US", None, "+442079460000"),
        ("00442079460000", "GB", None, "+442079460000"),
        ("020 7946 0000", "GB", None, "+442079460000"),
        ("0011 44 20 7946 0000", "AU", None, "+442079460000"),
        ("tel:+1-415-555-0123", "US", None, "+14155550123"),
        ("tel:+1-415-555-0123;ext=55;isub=7", "US", None, "+14155550123"),
        ("TEL:4155550123", "US", None, "+14155550123"),
        ("sip:+14155550123@pbx.sip.twilio.com", "US", None, "+14155550123"),
        ("sip:+442079460000@x.sip.twilio.com;transport=tls", "US", None, "+442079460000"),
        ("sips:+14155550123@pbx.sip.twilio.com:5061", "US", None, "+14155550123"),
        ("<sip:+14155550123@pbx.sip.twilio.com>", "US", None, "+14155550123"),
        ("sip:%2B14155550123@pbx.sip.twilio.com", "US", None, "+14155550123"),
        ("sip:+14155550123;npdi;rn=+14155550000@pbx.sip.twilio.com;user=phone", "US", None, "+14155550123"),
        ("sip:+14155550123:secret@pbx.sip.twilio.com", "US", None, "+14155550123"),
        # A PBX's outside-line prefix, then the region's international access prefix.
        ("sip:9011442079460000@pbx.sip.twilio.com", "US", "9", "+442079460000"),
        ("sip:914155550123@pbx.sip.twilio.com", "US", "9", "+14155550123"),
        ("sip:94155550123@pbx.sip.twilio.com", "US", "9", "+14155550123"),
        ("sip:9002079460000@pbx.sip.twilio.com", "DE", "9", "+2079460000") if False else ("900442079460000", "DE", "9", "+442079460000"),
        # The prefix is optional: a PBX that strips it itself still works, even for 9xx area codes.
        ("sip:4155550123@pbx.sip.twilio.com", "US", "9", "+14155550123"),
        ("9075551234", "US", "9", "+19075551234"),
        ("99075551234", "US", "9", "+19075551234"),
    ],
)
def test_dial_strings_normalise_to_e164(raw: str, region: str, prefix: str | None, e164: str) -> None:
    target = normalize_dial_string(raw, default_region=region, outside_line_prefix=prefix)
    assert target.kind is TargetKind.PSTN, target
    assert target.e164 == e164
    assert target.dial_value == e164
    assert target.raw == raw


@pytest.mark.parametrize(
    "raw, region, prefix, digits",
    [
        ("911", "US", None, "911"),
        ("112", "US", None, "112"),
        ("999", "GB", None, "999"),
        ("112", "DE", None, "112"),
        ("000", "AU", None, "000"),
        ("9911", "US", "9", "911"),  # outside line, then 911
        ("911", "US", "9", "911"),  # 911 itself is never read as 9 + 11
        ("sip:911@pbx.sip.twilio.com", "US", None, "911"),
        ("sip:9999@pbx.sip.twilio.com", "GB", "9", "999"),
        ("tel:911", "US", None, "911"),
    ],
)
def test_emergency_numbers_are_recognised_for_the_callers_region(raw: str, region: str, prefix: str | None, digits: str) -> None:
    target = normalize_dial_string(raw, default_region=region, outside_line_prefix=prefix)
    assert target.kind is TargetKind.EMERGENCY
    assert target.digits == digits


def test_emergency_depends_on_the_region() -> None:
    assert normalize_dial_string("999", default_region="US").kind is not TargetKind.EMERGENCY
    assert normalize_dial_string("999", default_region="US", emergency_regions=("US", "GB")).kind is TargetKind.EMERGENCY
    assert normalize_dial_string("+911", default_region="US").kind is not TargetKind.EMERGENCY


@pytest.mark.parametrize(
    "raw, kind, value",
    [
        ("client:alice", TargetKind.CLIENT, "alice"),
        ("client:support-queue-7", TargetKind.CLIENT, "support-queue-7"),
        ("sip:alice@example.com", TargetKind.SIP, "sip:alice@example.com"),
        ("sip:alice@pbx.sip.twilio.com;transport=tcp", TargetKind.SIP, "sip:alice@pbx.sip.twilio.com;transport=tcp"),
        ("sip:pbx.example.com", TargetKind.SIP, "sip:pbx.example.com"),
        ("sip:*97@pbx.example.com", TargetKind.SIP, "sip:*97@pbx.example.com"),
    ],
)
def test_non_pstn_targets_are_recognised_not_mangled(raw: str, kind: TargetKind, value: str) -> None:
    target = normalize_dial_string(raw, default_region="US", outside_line_prefix="9")
    assert target.kind is kind
    assert target.dial_value == value
    assert target.e164 is None


@pytest.mark.parametrize(
    "raw, region, fragment",
    [
        ("", "US", "empty"),
        ("   ", "US", "empty"),
        ("hello", "US", "not a number"),
        ("1-800-FLOWERS", "US", "not a number"),
        ("+", "US", "not a number"),
        ("+14155550123 x12", "US", "not a number"),
        ("4155550123", None, "no default region"),
        ("client:", "US", "identity is empty"),
        ("sip:", "US", "no host"),
        ("41555\x0050123", "US", "control characters"),
        ("1" * 300, "US", "longer than"),
        ("+999123456", "US", "not a number in any country calling code"),
    ],
)
def test_bad_dial_strings_are_invalid_with_a_reason(raw: str, region: str | None, fragment: str) -> None:
    target = normalize_dial_string(raw, default_region=region)
    assert target.kind is TargetKind.INVALID
    assert target.error is not None and fragment in target.error


def test_parseable_but_invalid_numbers_stay_pstn_for_classification_to_refuse() -> None:
    target = normalize_dial_string("+1415555", default_region="US")
    assert target.kind is TargetKind.PSTN
    assert classify_number(target.e164).valid is False  # type: ignore[arg-type]


# -- classification -----------------------------------------------------------------------


def test_classification_of_a_us_number() -> None:
    info = classify_number("+14155550123")
    assert info.valid
    assert (info.region, info.country_code, info.type_name) == ("US", 1, "fixed_line_or_mobile")
    assert info.time_zones == ("America/Los_Angeles",)
    assert info.risk is RiskCategory.LOW_RISK
    assert info.geo_key == "US"


@pytest.mark.parametrize(
    "e164, risk",
    [
        ("+19005550123", RiskCategory.HIGH_RISK_SPECIAL),  # US premium rate (type)
        ("+448712345678", RiskCategory.HIGH_RISK_SPECIAL),  # UK 087 (type and listed prefix)
        ("+18765550100", RiskCategory.HIGH_RISK_TOLLFRAUD),  # Jamaica: one-ring fraud area code
        ("+8816123456789", RiskCategory.HIGH_RISK_TOLLFRAUD),  # Iridium satellite
        ("+442079460000", RiskCategory.LOW_RISK),
    ],
)
def test_risk_categories(e164: str, risk: RiskCategory) -> None:
    assert classify_number(e164).risk is risk


@pytest.mark.parametrize(
    "e164, categories",
    [
        # Cuban shared cost (type: special services) inside +53, listed for toll fraud: both.
        ("+538071234567", (RiskCategory.HIGH_RISK_SPECIAL, RiskCategory.HIGH_RISK_TOLLFRAUD)),
        ("+448712345678", (RiskCategory.HIGH_RISK_SPECIAL,)),  # listed and typed special: once
        ("+18765550100", (RiskCategory.HIGH_RISK_TOLLFRAUD,)),
        ("+19005550123", (RiskCategory.HIGH_RISK_SPECIAL,)),
        ("+442079460000", (RiskCategory.LOW_RISK,)),
    ],
)
def test_a_number_belongs_to_every_category_that_claims_it(e164: str, categories: tuple[RiskCategory, ...]) -> None:
    info = classify_number(e164)
    assert info.risk_categories == categories
    assert info.risk is categories[-1]  # the strictest


def test_a_range_a_policy_maps_to_low_risk_is_low_risk_only_whatever_its_type() -> None:
    table = shipped_risk_data().table.with_overrides([RiskPrefix("+53807", RiskCategory.LOW_RISK, "test")])
    info = NumberClassifier(table).classify("+538071234567")
    assert info.type_name == "shared_cost"
    assert info.risk_categories == (RiskCategory.LOW_RISK,)


def test_non_geographic_numbers_have_no_region_and_a_calling_code_key() -> None:
    info = classify_number("+8816123456789")
    assert info.valid and info.region is None
    assert info.geo_key == "+881"
    assert region_name(info.region, info.country_code) == "non-geographic code +881"


def test_policy_overrides_take_precedence_by_longest_prefix() -> None:
    table = shipped_risk_data().table.with_overrides(
        [
            RiskPrefix("+1876555", RiskCategory.LOW_RISK, "test"),
            RiskPrefix("+44207946", RiskCategory.HIGH_RISK_TOLLFRAUD, "test"),
        ]
    )
    classifier = NumberClassifier(table)
    assert classifier.classify("+18765550100").risk is RiskCategory.LOW_RISK
    assert classifier.classify("+18764440100").risk is RiskCategory.HIGH_RISK_TOLLFRAUD
    assert classifier.classify("+442079460000").risk is RiskCategory.HIGH_RISK_TOLLFRAUD
    # Without the shipped lists only the overrides apply.
    bare = NumberClassifier(shipped_risk_data().table.with_overrides([], keep_shipped=False))
    assert bare.classify("+18764440100").risk is RiskCategory.LOW_RISK
    assert bare.classify("+19005550123").risk is RiskCategory.HIGH_RISK_SPECIAL  # type still counts


@pytest.mark.parametrize("e164", ["+39848123456", "+3531850123456", "+611300123456"])
def test_numbers_that_cannot_be_dialled_from_abroad_are_marked(e164: str) -> None:
    # Italian 848, Irish 1850 and Australian 1300 numbers work only from inside the country.
    number = phonenumbers.parse(e164)
    assert phonenumbers.is_valid_number(number) and not phonenumbers.can_be_internationally_dialled(number)
    info = classify_number(e164)
    assert info.valid and not info.internationally_dialable
    assert classify_number("+442079460000").internationally_dialable


def test_shipped_risk_data_is_well_formed() -> None:
    data = shipped_risk_data()
    assert data.direct_request_countries == {"SG", "TW", "SL", "SO"}
    prefixes = [e.prefix for e in data.table.entries]
    assert len(prefixes) == len(set(prefixes))
    assert all(e.source for e in data.table.entries)


# -- every example number of every type in every region -----------------------------------


def _example_numbers() -> list[tuple[str, int, phonenumbers.PhoneNumber]]:
    cases = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for number_type in ALL_TYPES:
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is not None:
                cases.append((region, number_type, example))
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            cases.append(("001", phonenumbers.number_type(example), example))
    return cases


EXAMPLES = _example_numbers()


@pytest.mark.parametrize(
    "region, number_type, example",
    EXAMPLES,
    ids=[f"{r}-{t}" for r, t, _ in EXAMPLES],
)
def test_every_example_number_normalises_and_classifies_like_phonenumbers(
    region: str, number_type: int, example: phonenumbers.PhoneNumber
) -> None:
    e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
    expected_region = phonenumbers.region_code_for_number(example)
    expected_type = phonenumbers.number_type(example)
    valid = phonenumbers.is_valid_number(example)

    # Our single-pass region and type agree with phonenumbers' public functions.
    assert _region_and_type(example) == (expected_region, expected_type)

    # E.164, international and RFC 3966 forms normalise to the same number from any region;
    # the national form does from the example's own region.
    forms = [
        (e164, "US"),
        (phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL), "US"),
        (phonenumbers.format_number(example, PhoneNumberFormat.RFC3966), "GB"),
    ]
    if region != "001":
        forms.append((phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL), region))
    for raw, default_region in forms:
        target = normalize_dial_string(raw, default_region=default_region, emergency_regions=())
        assert target.kind is TargetKind.PSTN, (raw, target)
        assert target.e164 == e164, raw

    info = classify_number(e164)
    assert info.valid is valid
    assert info.country_code == example.country_code
    assert info.region == (None if expected_region in (None, "001") else expected_region)
    assert info.number_type == expected_type
    listed = shipped_risk_data().table.prefix_category(e164)
    if listed is not None:
        assert info.risk is listed
    elif expected_type in (PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST, PhoneNumberType.UAN, PhoneNumberType.PERSONAL_NUMBER):
        assert info.risk is RiskCategory.HIGH_RISK_SPECIAL
    else:
        assert info.risk is RiskCategory.LOW_RISK
    expected_zones = tuple(z for z in phonenumbers.timezone.time_zones_for_number(example) if z != "Etc/Unknown")
    assert info.time_zones == (expected_zones if valid else ())
    if valid and expected_region != "001":
        assert info.time_zones, "a valid number in a country has at least one time zone"
    assert region_name(info.region, info.country_code)


def test_the_example_set_covers_every_supported_region() -> None:
    assert {r for r, _, _ in EXAMPLES} >= set(phonenumbers.SUPPORTED_REGIONS)


# -- properties ---------------------------------------------------------------------------

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
dial_alphabet = st.sampled_from(list("0123456789+-() .*#;:@%<>/abcsiptelx=\t"))


@given(
    raw=st.one_of(st.text(max_size=80), st.text(alphabet=dial_alphabet, max_size=40)),
    region=st.one_of(st.none(), st.sampled_from(REGIONS), st.text(max_size=3)),
    prefix=st.one_of(st.none(), st.sampled_from(["9", "0", "81", "9999"])),
)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_normalisation_never_raises(raw: str, region: str | None, prefix: str | None) -> None:
    target = normalize_dial_string(raw, default_region=region, outside_line_prefix=prefix)
    if target.kind is TargetKind.PSTN:
        assert target.e164 is not None and target.e164.startswith("+") and target.e164[1:].isdigit()
        classify_number(target.e164)  # classification never raises either
    elif target.kind is TargetKind.EMERGENCY:
        assert target.digits is not None and target.digits.isdigit() and len(target.digits) <= 6
    elif target.kind is TargetKind.INVALID:
        assert target.error


@st.composite
def valid_numbers(draw: st.DrawFn) -> phonenumbers.PhoneNumber:
    region, _, example = draw(st.sampled_from(EXAMPLES))
    digits = list(str(example.national_number))
    rng = random.Random(draw(st.integers(0, 2**32)))
    # Vary the subscriber part and keep what is still valid.
    for index in range(max(1, len(digits) - 4), len(digits)):
        digits[index] = str(rng.randrange(10))
    number = phonenumbers.PhoneNumber(
        country_code=example.country_code,
        national_number=int("".join(digits)),
        italian_leading_zero=example.italian_leading_zero,
        number_of_leading_zeros=example.number_of_leading_zeros,
    )
    assume(phonenumbers.is_valid_number(number))
    return number


@given(number=valid_numbers(), form=st.sampled_from([PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.RFC3966]))
@settings(max_examples=400, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
def test_any_valid_number_in_any_written_form_normalises_to_its_e164(number: phonenumbers.PhoneNumber, form: int) -> None:
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    raw = phonenumbers.format_number(number, form)
    assert normalize_dial_string(raw, default_region="US", emergency_regions=()).e164 == e164
    assert normalize_dial_string(f"sip:{e164}@trunk.example.com", default_region="GB", emergency_regions=()).e164 == e164
    info = classify_number(e164)
    assert info.valid
    assert _region_and_type(number) == (phonenumbers.region_code_for_number(number), phonenumbers.number_type(number))


def _parse_or_none(digits: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(digits, None)
    except phonenumbers.NumberParseException:
        return None
    return None if number.extension else number


@given(digits=st.one_of(st.from_regex(r"\+[0-9]{1,22}", fullmatch=True), st.sampled_from([
    "+14155550123", "+114155550123", "+4402079460000", "+390612345678", "+3906", "+79161234567", "+88000", "+0123",
])))
@settings(max_examples=2000)
def test_the_e164_fast_path_agrees_with_phonenumbers_parse(digits: str) -> None:
    from callguard.numbers.dialstring import _parse_e164, _parse_pstn

    fast = _parse_e164(digits)
    if fast is not None:
        assert fast == _parse_or_none(digits), digits
    assert _parse_pstn(digits, None) == _parse_or_none(digits), digits


@pytest.mark.parametrize("region, number_type, example", EXAMPLES, ids=[f"{r}-{t}" for r, t, _ in EXAMPLES])
def test_the_e164_fast_path_agrees_on_every_example_number(region: str, number_type: int, example: phonenumbers.PhoneNumber) -> None:
    from callguard.numbers.dialstring import _parse_pstn

    e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
    assert _parse_pstn(e164, None) == phonenumbers.parse(e164, None)


def test_conference_and_queue_names_are_their_own_kinds() -> None:
    conference = normalize_dial_string("conference: standup ")
    assert (conference.kind, conference.identity, conference.dial_value) == (TargetKind.CONFERENCE, "standup", "standup")
    assert normalize_dial_string("queue:support").kind is TargetKind.QUEUE
    assert normalize_dial_string("conference:").kind is TargetKind.INVALID


# -- SIP extensions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, prefix, extension_digits",
    [
        ("sip:201@office.sip.twilio.com", None, (2, 6)),
        ("sip:201@pbx.sip.twilio.com", "9", (2, 6)),  # does not start with the outside-line prefix
        ("sips:20@pbx.sip.twilio.com:5061", None, (2, 6)),
        ("<sip:123456@pbx.sip.twilio.com>", None, (2, 6)),
        ("sip:201@pbx.sip.twilio.com;transport=tcp", None, (2, 6)),
        ("sip:2001@pbx.sip.twilio.com", None, (4, 4)),
        ("sip:41555501@pbx.sip.twilio.com", None, (2, 8)),
    ],
)
def test_a_short_digit_sip_user_part_is_an_extension(raw: str, prefix: str | None, extension_digits: tuple[int, int]) -> None:
    target = normalize_dial_string(raw, default_region="US", outside_line_prefix=prefix, extension_digits=extension_digits)
    assert target.kind is TargetKind.SIP, target
    assert target.dial_value == target.uri == raw.strip("<>")
    assert target.e164 is None


@pytest.mark.parametrize(
    "raw, region, prefix, extension_digits, kind",
    [
        ("sip:9201@pbx.sip.twilio.com", "US", "9", (2, 6), TargetKind.PSTN),  # the outside line: a number
        ("sip:911@pbx.sip.twilio.com", "US", None, (2, 6), TargetKind.EMERGENCY),
        ("sip:9911@pbx.sip.twilio.com", "US", "9", (2, 6), TargetKind.EMERGENCY),
        ("sip:999@pbx.sip.twilio.com", "GB", None, (2, 6), TargetKind.EMERGENCY),
        ("sip:112@pbx.sip.twilio.com", "DE", None, (2, 6), TargetKind.EMERGENCY),
        ("sip:1234567@pbx.sip.twilio.com", "US", None, (2, 6), TargetKind.PSTN),  # 7 digits: a number
        ("sip:201@pbx.sip.twilio.com", "US", None, None, TargetKind.PSTN),  # extensions off
        ("sip:201@pbx.sip.twilio.com", "US", None, (4, 6), TargetKind.PSTN),
        ("sip:+201@pbx.sip.twilio.com", "US", None, (2, 6), TargetKind.INVALID),  # "+": never an extension
        ("201", "US", None, (2, 6), TargetKind.PSTN),  # only SIP URIs have extensions
        ("tel:201", "US", None, (2, 6), TargetKind.PSTN),
    ],
)
def test_what_is_not_an_extension(
    raw: str, region: str, prefix: str | None, extension_digits: tuple[int, int] | None, kind: TargetKind
) -> None:
    target = normalize_dial_string(raw, default_region=region, outside_line_prefix=prefix, extension_digits=extension_digits)
    assert target.kind is kind, target


def test_the_cache_tells_extension_settings_apart() -> None:
    raw = "sip:301@cache.sip.twilio.com"
    assert normalize_dial_string(raw, extension_digits=None).kind is TargetKind.PSTN
    assert normalize_dial_string(raw).kind is TargetKind.SIP
    assert normalize_dial_string(raw, extension_digits=(4, 6)).kind is TargetKind.PSTN
    assert normalize_dial_string(raw, extension_digits=(3, 3)).kind is TargetKind.SIP


def _emergency(digits: str, region: str) -> bool:
    return bool(phonenumbers.shortnumberinfo.is_emergency_number(digits, region))


@given(
    digits=st.from_regex(r"[0-9]{1,15}", fullmatch=True),
    region=st.sampled_from(["US", "GB", "DE", "AU", "FR", "IN"]),
    prefix=st.sampled_from([None, "9", "0", "81"]),
)
@settings(max_examples=500)
def test_by_default_a_2_to_6_digit_user_part_is_an_extension_unless_prefixed_or_emergency(
    digits: str, region: str, prefix: str | None
) -> None:
    raw = f"sip:{digits}@pbx.example.com"
    target = normalize_dial_string(raw, default_region=region, outside_line_prefix=prefix)
    if _emergency(digits, region):
        assert target.kind is TargetKind.EMERGENCY
    elif 2 <= len(digits) <= 6 and not (prefix and digits.startswith(prefix)):
        assert (target.kind, target.uri) == (TargetKind.SIP, raw)
    else:  # 7 digits or more, a single digit, or behind the outside-line prefix: read as a number
        assert target.kind is not TargetKind.SIP
        assert target.kind is normalize_dial_string(raw, default_region=region, outside_line_prefix=prefix, extension_digits=None).kind


@given(
    digits=st.from_regex(r"[0-9]{1,16}", fullmatch=True),
    bounds=st.tuples(st.integers(1, 15), st.integers(1, 15)).map(lambda b: (min(b), max(b))),
    prefix=st.sampled_from([None, "9"]),
)
@settings(max_examples=500)
def test_a_sip_domains_extension_length_decides(digits: str, bounds: tuple[int, int], prefix: str | None) -> None:
    raw = f"sip:{digits}@pbx.example.com"
    target = normalize_dial_string(raw, default_region="US", outside_line_prefix=prefix, extension_digits=bounds)
    extension = bounds[0] <= len(digits) <= bounds[1] and not (prefix and digits.startswith(prefix)) and not _emergency(digits, "US")
    assert (target.kind is TargetKind.SIP) is extension
    off = normalize_dial_string(raw, default_region="US", outside_line_prefix=prefix, extension_digits=None)
    assert off.kind is not TargetKind.SIP  # extensions off: every digit user part is a number
    if not extension:
        assert target == off
