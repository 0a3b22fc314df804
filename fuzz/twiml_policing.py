"""Any document an app answers: policing either refuses it as unreadable (``TwimlError``) or gives
back well-formed TwiML in which every target a plain XML reader finds was decided and permitted."""

from __future__ import annotations

from xml.etree import ElementTree

from callguard.numbers import TargetKind, normalize_dial_string
from callguard.wrapping.policing import Callbacks, WrappedCall, police_twiml
from twiml.errors import TwimlError

from .driver import fuzz
from .guards import ACCOUNT, CALLER_ID, mixed_guard

GUARD = mixed_guard()
CALL = WrappedCall(account_sid=ACCOUNT, from_=CALLER_ID, call_sid="CA" + "0" * 32)
CALLBACKS = Callbacks("https://callguard.example.com", "https://app.example.com/voice", b"k" * 32, status=True)
NOUNS = {"Number", "Sip", "Client", "Conference", "Queue"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: ElementTree.Element) -> str:
    return "".join(element.itertext()).strip()  # comments are gone: ElementTree's default reader drops them


def dialled(body: str | bytes) -> list[str]:
    """Every value the answer dials, read without callguard's code."""
    values = []
    for dial in ElementTree.fromstring(body).iter():
        if not isinstance(dial.tag, str) or _local(dial.tag) != "Dial":
            continue
        values.append("".join([dial.text or "", *(child.tail or "" for child in dial)]).strip())
        for noun in dial:
            name = _local(noun.tag)
            if name not in NOUNS:
                continue
            uris = [child for child in noun if _local(child.tag) == "Uri"] if name == "Sip" else []
            identity = [child for child in noun if _local(child.tag) == "Identity"] if name == "Client" else []
            if uris:
                values.append("".join([noun.text or "", *(child.tail or "" for child in noun)]).strip())
                values.extend(_text(uri) for uri in uris)
            else:
                values.append(_text(identity[0]) if identity else _text(noun))
    return [value for value in values if value]


def check(data: bytes) -> None:
    try:
        policed = police_twiml(data, GUARD, CALL, CALLBACKS)
    except TwimlError:
        return
    permitted = {t.target.value for t in policed.targets if t.kept}
    for value in dialled(policed.body):
        if value not in permitted and normalize_dial_string(value).kind is not TargetKind.EMERGENCY:
            raise AssertionError(f"the answer dials {value!r}, which was not permitted ({sorted(permitted)})")


if __name__ == "__main__":
    fuzz(check)
