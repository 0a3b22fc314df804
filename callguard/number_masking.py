"""Phone numbers in free text, masked: ``+14155550100`` reads ``+1415•••0100``.

What callguard logs (a webhook's ``To`` and ``From``, an opt-out, a registry line, a SQL error's
parameters, a refused request's URL) is free text, so the numbers in it are found by their
shape. A number keeps its first digits (the country code and a little more) and its last four;
at least three digits between them, and every digit beyond the first four and the last four,
become ``•``, one for each digit, so the separators of a written form stay where they were
(``(415) •••-0100``).

These are plainly phone numbers, and are masked:

- E.164, with a plus or its URL encoding and 8 or more digits: ``+14155550100``,
  ``%2B14155550100`` (a query string), ``sip:+14155550100@…``; with separators too
  (``+1 415 555 0100``, ``+44 20 7946 0123``, ``+1 (415) 555-0100``) when 8 or more digits;
- the North American forms ``(415) 555-0100``, ``415-555-0100``, ``415.555.0100``, with or
  without a leading ``1``, and bare ``4155550100`` or ``14155550100``, where the area code and
  the exchange begin with 2 to 9, as the plan has them (``415 555 0100`` is left: three counts
  in a row read the same);
- bare digits dialled with a trunk or international prefix: ``02079460123``,
  ``011442079460123`` (a ``0`` and 8 or more digits);
- the digit user part of a SIP or tel URI of 7 digits or more (``sip:9011442079460123@pbx…``).

Bare digits count only as a word of their own: a run that touches a letter, a digit, ``_`` or a
``.`` (a Call SID's hex, a float, an IP address), or that is followed by ``bytes``/``B``, is left
alone. So are Call and account SIDs, ISO 8601 timestamps and their offsets (``+14:00``), epoch
seconds (they begin with ``1``), ports and byte counts; a date or a time (``2024-05-01``,
``12:30``) ends a number written with separators rather than joining it. The one collision
left: a bare ten-digit count shaped like a North American number (``2145550100``) is masked.
"""

from __future__ import annotations

import re

MASK = "\u2022"  # •, which no number, SID or timestamp contains: a masked number never masks again

_PLUS = r"(?:\+|%2[Bb])"
# A group of a number written with separators: one separator (or a parenthesis) and up to 8
# digits; a group that begins a date or a time is not the number's.
_GROUP = r"(?:[ .\-]|(?<=\))|(?=\())\(?(?!\d{4}-\d\d-\d\d|\d\d?:\d\d)\d{1,8}\)?"
_BARE_BEFORE = r"(?<![\w.])"
_BARE_AFTER = r"(?![\w]|\.\d|\s?(?:bytes?|B)\b)"

_NANP_WRITTEN = r"(?:1[ .\-]?)?(?:\([2-9]\d\d\) ?[2-9]\d\d[ .\-]\d{4}|[2-9]\d\d(?P<sep>[.\-])[2-9]\d\d(?P=sep)\d{4})"
_BARE_DIGITS = r"1?[2-9]\d\d[2-9]\d{6}|0\d{8,}"

_ALTERNATIVES = (
    rf"(?P<plus>{_PLUS})(?P<e164>\d{{8,}})",
    rf"(?P<plus_spaced>{_PLUS})(?P<spaced>\(?\d{{1,4}}\)?(?:{_GROUP}){{1,6}})",
    r"(?P<uri>\b(?:sips?|tel):)(?P<user>\d[\d\-.]{5,}\d)(?=[@;>?,\s]|$)",
    rf"{_BARE_BEFORE}(?:{_NANP_WRITTEN}|{_BARE_DIGITS}){_BARE_AFTER}",
)
# Every number begins with a digit, a plus, a %, a parenthesis or a URI's s or t: the lookahead
# turns every other position away before the alternatives are tried (a third of the time a line takes).
_NUMBERS = re.compile(r"(?=[\d+%(st])(?:" + "|".join(_ALTERNATIVES) + ")")

_KEEP_TAIL = 4  # the last four digits, which say which line without saying whose
_KEEP_HEAD = 4  # at most: the country code and the first digits of the national number
_HIDE_AT_LEAST = 3


def mask_numbers(text: str) -> str:
    """``text`` with every phone number in it masked (see the module docstring for which)."""
    if not any(character.isdigit() for character in text):  # most log lines: nothing to look at
        return text
    return _NUMBERS.sub(_masked_match, text)


def mask_digits(number: str) -> str:
    """``number`` (digits, perhaps with separators) with its middle digits replaced by ``•``."""
    count = sum(character.isdigit() for character in number)
    hidden = max(_HIDE_AT_LEAST, count - _KEEP_HEAD - _KEEP_TAIL)
    head = max(0, count - _KEEP_TAIL - hidden)
    masked = []
    seen = 0
    for character in number:
        if character.isdigit():
            if head <= seen < head + hidden:
                character = MASK
            seen += 1
        masked.append(character)
    return "".join(masked)


def _masked_match(match: re.Match[str]) -> str:
    groups = match.groupdict()
    if groups["e164"] is not None:
        return groups["plus"] + mask_digits(groups["e164"])
    if groups["spaced"] is not None:
        spaced = groups["spaced"]
        if sum(character.isdigit() for character in spaced) < 8:
            return match.group()  # a plus and a few digits (an offset, a sum): no number
        return groups["plus_spaced"] + mask_digits(spaced)
    if groups["user"] is not None:
        user = groups["user"]
        if sum(character.isdigit() for character in user) < 7:
            return match.group()  # an extension (sip:201@…) or a short code
        return groups["uri"] + mask_digits(user)
    return mask_digits(match.group())
