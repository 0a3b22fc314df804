"""Write the seed corpus of every harness (``fuzz/corpus/TARGET/seed-*``) from the documents,
dial strings, policies and webhook bodies the tests use: ``python -m fuzz.seeds``.

Files a fuzzing run found (``crash-*``, kept as regression inputs) are left alone.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"
DOCUMENT = re.compile(r"""(<Response[ >].*?</Response>)""", re.DOTALL)


def twiml_documents() -> list[bytes]:
    found: dict[bytes, None] = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for match in DOCUMENT.finditer(path.read_text()):
            text = match.group(1)
            if "{" not in text and '"' not in text.replace('\\"', ""):  # whole literals, not f-strings
                found[text.encode()] = None
    found[b'<Response><Dial callerId="+14155550100"><Number>+4930123456<!-- x -->78</Number></Dial></Response>'] = None
    found[b"<Response><Dial><Sip><Uri>sip:+442079460000@carrier.example.com</Uri></Sip><Client>bob</Client></Dial></Response>"] = None
    return list(found)


def dial_strings() -> list[bytes]:
    numbers = [
        "+14155550123", "(415) 555-0123", "4155550123", "9 1 415 555 0123", "011 44 20 7946 0000", "+442079460000",
        "020 7946 0000", "+4930901820", "0049 30 901820", "sip:+14155550123@carrier.example.com", "sips:1001@pbx.example.com",
        "client:alice", "conference:standup", "911", "112", "999", "+1 876 555 0100", "+881 2 345 6789", "tel:+14155550123",
        "+1-415-555-0123;ext=12", "+1415555０１２３",
    ]
    return [bytes([selector]) + number.encode() for selector in (0, 1, 2, 7) for number in numbers]


TOML_BLOCK = re.compile(r"```toml\n(.*?)```", re.DOTALL)


def policies() -> list[bytes]:
    found = [path.read_bytes() for path in sorted((ROOT / "examples").glob("*.toml"))]
    for path in sorted((ROOT / "docs").glob("*.md")):
        found.extend(block.encode() for block in TOML_BLOCK.findall(path.read_text()))
    from tests.conftest import BASE_POLICY  # the policy most tests decide with

    found.append(BASE_POLICY.encode())
    return found


def webhook_bodies() -> list[bytes]:
    params = {
        "AccountSid": "AC" + "1" * 32, "ApiVersion": "2010-04-01", "CallSid": "CA" + "2" * 32, "CallStatus": "ringing",
        "Direction": "inbound", "From": "+14155550100", "To": "+14155550123", "Caller": "+14155550100", "Called": "+14155550123",
    }
    bodies = [
        urlencode(params), urlencode({**params, "To": "+4930123456789"}), urlencode({**params, "To": "sip:+442079460000@x.example"}),
        urlencode({**params, "To": "911"}), urlencode({**params, "From": ""}), "AccountSid=AC&To=%FF%FE",
    ]
    return [bytes([selector]) + body.encode() for selector in (0, 1) for body in bodies]


def main() -> None:
    for target, seeds in (
        ("twiml_policing", twiml_documents()),
        ("dial_strings", dial_strings()),
        ("policy_loader", policies()),
        ("form_body", webhook_bodies()),
    ):
        folder = CORPUS / target
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("seed-*"):
            old.unlink()
        for index, seed in enumerate(seeds):
            (folder / f"seed-{index:03d}").write_bytes(seed)
        print(f"{target}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
