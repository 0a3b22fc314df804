"""Turn what a dial can carry into a :class:`DialTarget`.

A ``To`` parameter can be an E.164 number, a national number, a ``tel:`` URI, a SIP URI whose
user part is a number (possibly behind a PBX's outside-line prefix and an international access
prefix), a ``client:`` identity, or a SIP URI naming an endpoint. A SIP URI whose user part is a
short string of digits (``sip:201@…``: by default 2 to 6, not an emergency number, not led by
``+`` or the outside-line prefix) names a PBX extension, a SIP endpoint, not a phone number.
``conference:NAME`` and ``queue:NAME`` stand for a ``<Dial>``'s ``<Conference>`` and ``<Queue>``
nouns. This module only works out *what* was dialled; whether it is valid, where it goes and
what it costs is :mod:`callguard.numbers.classify`'s job.

Normalisation never raises: anything it cannot make sense of becomes a target of kind
``INVALID`` with the reason in ``error``.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberType, shortnumberinfo

MAX_DIAL_STRING_LENGTH = 256

# RFC 3966 visual separators, plus the space people and PBXs put in numbers.
_VISUAL_SEPARATORS = str.maketrans("", "", " -.()/\t")
_DIGITS = re.compile(r"\+?[0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Emergency short codes are at most a few digits; anything longer skips the lookup.
_MAX_EMERGENCY_DIGITS = 6
# How many digits a SIP user part that is an extension has, unless a SIP Domain says otherwise.
DEFAULT_EXTENSION_DIGITS = (2, 6)


class TargetKind(enum.Enum):
    """What a dial string names."""

    PSTN = "pstn"
    EMERGENCY = "emergency"
    CLIENT = "client"
    SIP = "sip"
    CONFERENCE = "conference"
    QUEUE = "queue"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class DialTarget:
    """The result of normalising one dial string.

    ``e164`` is set for PSTN targets (it may still be an invalid number: classification says),
    ``digits`` for emergency targets (the short code as dialled, without an outside-line prefix),
    ``uri`` for SIP endpoints, ``identity`` for clients, conferences and queues (their names).
    ``error`` says why a target is invalid.
    """

    kind: TargetKind
    raw: str
    e164: str | None = None
    digits: str | None = None
    uri: str | None = None
    identity: str | None = None
    error: str | None = None
    # The parsed number, handed on so classification does not parse it a second time.
    number: phonenumbers.PhoneNumber | None = field(default=None, repr=False, compare=False)

    @property
    def is_pstn(self) -> bool:
        return self.kind is TargetKind.PSTN

    @property
    def dial_value(self) -> str | None:
        """What a ``<Dial>`` noun for this target carries."""
        if self.kind is TargetKind.PSTN:
            return self.e164
        if self.kind is TargetKind.EMERGENCY:
            return self.digits
        if self.kind is TargetKind.SIP:
            return self.uri
        if self.kind in (TargetKind.CLIENT, TargetKind.CONFERENCE, TargetKind.QUEUE):
            return self.identity
        return None


_NAMED_TARGETS = {"client": TargetKind.CLIENT, "conference": TargetKind.CONFERENCE, "queue": TargetKind.QUEUE}


def _invalid(raw: str, error: str) -> DialTarget:
    return DialTarget(TargetKind.INVALID, raw, error=error)


def _is_emergency(digits: str, regions: tuple[str, ...]) -> bool:
    if len(digits) > _MAX_EMERGENCY_DIGITS:
        return False
    for region in regions:
        try:
            if shortnumberinfo.is_emergency_number(digits, region):
                return True
        except Exception:  # phonenumbers on a region it has no short-number data for
            continue
    return False


_national_prefix_res: dict[str, re.Pattern[str]] = {}


def _parse_e164(digits: str) -> phonenumbers.PhoneNumber | None:
    """``phonenumbers.parse("+…")`` for the common case, or None where that case does not hold.

    For "+", a country code and a national number that neither starts with 0 (Italian leading
    zeros) nor with the region's national prefix (which parse() may strip), parse() comes to
    ``PhoneNumber(country_code, national_number)`` by a long way round. Everything else goes
    to parse() itself; tests/test_numbers.py checks the two agree on any "+digits" string.
    """
    if not 4 <= len(digits) <= 21 or digits[1] == "0":  # no country calling code starts with 0
        return None
    country_codes = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
    for length in (1, 2, 3):
        code = int(digits[1 : 1 + length])
        if code in country_codes:
            break
    else:
        return None
    national = digits[1 + length :]
    if not 2 <= len(national) <= 17 or national[0] == "0":
        return None
    region = phonenumbers.region_code_for_country_code(code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing
    if prefix:
        pattern = _national_prefix_res.get(prefix)
        if pattern is None:
            pattern = _national_prefix_res[prefix] = re.compile(prefix)
        if pattern.match(national):
            return None
    return phonenumbers.PhoneNumber(country_code=code, national_number=int(national))


def _parse_pstn(digits: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    if digits.startswith("+"):
        number = _parse_e164(digits)
        if number is not None:
            return number
    try:
        number = phonenumbers.parse(digits, None if digits.startswith("+") else region)
    except Exception:
        return None
    if number.extension:
        return None
    return number


def _is_valid(number: phonenumbers.PhoneNumber) -> bool:
    # number_type() is UNKNOWN exactly when is_valid_number() is False, at half the cost of both.
    return phonenumbers.number_type(number) != PhoneNumberType.UNKNOWN


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _resolve_digits(
    raw: str,
    digits: str,
    region: str | None,
    outside_line_prefix: str | None,
    emergency_regions: tuple[str, ...],
) -> DialTarget:
    """Resolve a string of digits (optionally led by ``+``) to a PSTN or emergency target."""
    if digits.startswith("+"):
        number = _parse_pstn(digits, None)
        if number is None:
            return _invalid(raw, f"{digits} is not a number in any country calling code")
        return DialTarget(TargetKind.PSTN, raw, e164=_e164(number), number=number)

    if _is_emergency(digits, emergency_regions):
        return DialTarget(TargetKind.EMERGENCY, raw, digits=digits)

    candidates = [digits]
    if outside_line_prefix and digits.startswith(outside_line_prefix) and len(digits) > len(outside_line_prefix):
        stripped = digits[len(outside_line_prefix):]
        if _is_emergency(stripped, emergency_regions):
            return DialTarget(TargetKind.EMERGENCY, raw, digits=stripped)
        # The PBX normally sends the outside-line prefix; some strip it themselves. Prefer the
        # stripped reading, fall back to the literal one only when that is the valid one.
        candidates.insert(0, stripped)

    if region is None:
        return _invalid(raw, f"{digits} is a national number and no default region is configured")

    parsed = [n for n in (_parse_pstn(c, region) for c in candidates) if n is not None]
    if len(parsed) == 1:
        # Nothing to choose between: classification (which needs the number type anyway)
        # will say whether it is valid.
        return DialTarget(TargetKind.PSTN, raw, e164=_e164(parsed[0]), number=parsed[0])
    for number in parsed:
        if _is_valid(number):
            return DialTarget(TargetKind.PSTN, raw, e164=_e164(number), number=number)
    if parsed:
        # None is valid: report the preferred reading and let classification say it is invalid.
        return DialTarget(TargetKind.PSTN, raw, e164=_e164(parsed[0]), number=parsed[0])
    return _invalid(raw, f"{digits} is not a number dialable from {region}")


def _is_extension(
    digits: str, extension_digits: tuple[int, int], outside_line_prefix: str | None, emergency_regions: tuple[str, ...]
) -> bool:
    """Whether a SIP user part of digits names an extension rather than a number."""
    shortest, longest = extension_digits
    return (
        shortest <= len(digits) <= longest
        and digits[0] != "+"
        and not (outside_line_prefix and digits.startswith(outside_line_prefix))
        and not _is_emergency(digits, emergency_regions)
    )


def _split_sip_user(rest: str) -> tuple[str | None, str]:
    """Return (user part, host part) of a SIP URI without its scheme."""
    rest = rest.split("?", 1)[0]
    if "@" not in rest:
        return None, rest
    user, host = rest.split("@", 1)
    user = user.split(":", 1)[0]  # drop a password
    user = user.split(";", 1)[0]  # drop user parameters (;npdi, ;rn=, ;isub=, ;phone-context=)
    return unquote(user), host


def _normalize_uncached(
    raw: str,
    default_region: str | None,
    outside_line_prefix: str | None,
    emergency_regions: tuple[str, ...],
    extension_digits: tuple[int, int] | None,
) -> DialTarget:
    if not isinstance(raw, str):
        return _invalid(str(raw), "the dial string is not text")
    text = raw.strip()
    if not text:
        return _invalid(raw, "the dial string is empty")
    if len(text) > MAX_DIAL_STRING_LENGTH:
        return _invalid(raw[:64], f"the dial string is longer than {MAX_DIAL_STRING_LENGTH} characters")
    if _CONTROL.search(text):
        return _invalid(raw, "the dial string contains control characters")
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()

    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower() if sep else ""

    if scheme in _NAMED_TARGETS:
        identity = rest.strip()
        if not identity:
            return _invalid(raw, f"the {'client identity' if scheme == 'client' else scheme + ' name'} is empty")
        return DialTarget(_NAMED_TARGETS[scheme], raw, identity=identity)

    if scheme in ("sip", "sips"):
        user, host = _split_sip_user(rest)
        if not host:
            return _invalid(raw, "the SIP URI has no host")
        if user is not None:
            digits = user.translate(_VISUAL_SEPARATORS)
            if _DIGITS.fullmatch(digits):
                if extension_digits is None or not _is_extension(digits, extension_digits, outside_line_prefix, emergency_regions):
                    return _resolve_digits(raw, digits, default_region, outside_line_prefix, emergency_regions)
                # An extension: a SIP endpoint like any other.
        return DialTarget(TargetKind.SIP, raw, uri=text)

    if scheme == "tel":
        number_part = rest.split(";", 1)[0]
        digits = unquote(number_part).translate(_VISUAL_SEPARATORS)
    else:
        digits = text.translate(_VISUAL_SEPARATORS)
    if not _DIGITS.fullmatch(digits):
        return _invalid(raw, "the dial string is not a number")
    return _resolve_digits(raw, digits, default_region, outside_line_prefix, emergency_regions)


# functools' C LRU rather than cachetools: a miss and insert cost ~0.5 µs instead of ~3 µs, and
# every unique destination is a miss. It is thread-safe without a lock of ours.
_normalize_cached = functools.lru_cache(maxsize=65_536)(_normalize_uncached)


def normalize_dial_string(
    raw: str,
    *,
    default_region: str | None = "US",
    outside_line_prefix: str | None = None,
    emergency_regions: tuple[str, ...] | None = None,
    extension_digits: tuple[int, int] | None = DEFAULT_EXTENSION_DIGITS,
) -> DialTarget:
    """Normalise one dial string.

    ``default_region`` reads national numbers and supplies the international access prefixes
    (``011`` in the US, ``00`` in most of the world); ``outside_line_prefix`` is the digit(s) a
    PBX puts in front of external calls; ``emergency_regions`` are the regions whose emergency
    short codes count (default: the default region). ``extension_digits`` is the (shortest,
    longest) count of digits a ``sip:``/``sips:`` user part has when it names an extension (a SIP
    target) rather than a number; None: every user part of digits is a number. Results are
    cached (LRU, 65 536 entries).
    """
    regions = emergency_regions if emergency_regions is not None else ((default_region,) if default_region else ())
    try:
        return _normalize_cached(raw, default_region, outside_line_prefix, regions, extension_digits)
    except TypeError:  # unhashable input: nothing to cache
        return _normalize_uncached(raw, default_region, outside_line_prefix, regions, extension_digits)
