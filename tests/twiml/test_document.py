"""Safe parsing of foreign TwiML and writing it back (twiml.document)."""

from __future__ import annotations

import pytest
from defusedxml import ElementTree
from hypothesis import given, settings
from hypothesis import strategies as st

from twiml.document import MAX_DEPTH, MAX_DOCUMENT_BYTES, XML_DECLARATION, local_name, parse_twiml
from twiml.errors import TwimlError


def test_a_document_is_written_back_as_it_was_read() -> None:
    source = (
        '<?xml version="1.0" encoding="UTF-8"?><Response>\n  <!-- greet first -->\n'
        '  <Say voice="Polly.Amy" language="en-GB">Tom &amp; Jerry &lt;3 "quotes"</Say>\n'
        '  <?app-hint keep me?>\n  <Dial callerId="+14155550100" timeout="20">+14155550123<Number sendDigits="ww1">'
        "+442079460000</Number></Dial>\n  <Hangup />\n</Response>"
    )
    assert parse_twiml(source).to_xml() == source


def test_namespaces_keep_their_prefixes_and_declarations() -> None:
    source = (
        '<Response xmlns="urn:twiml" xmlns:x="urn:ext" xmlns:unused="urn:nothing">'
        '<Say x:mood="calm">Hi</Say><x:Note xml:lang="en">kept</x:Note><Dial><Number>+14155550123</Number></Dial></Response>'
    )
    document = parse_twiml(source.encode())
    assert document.root.tag == "{urn:twiml}Response" and local_name(document.root.tag) == "Response"
    assert document.to_xml() == XML_DECLARATION + source


def test_attribute_values_with_newlines_and_tabs_survive_a_round_trip() -> None:
    document = parse_twiml('<Response><Say voice="a&#10;b&#9;c&#13;">x</Say></Response>')
    again = parse_twiml(document.to_xml())
    assert again.root[0].get("voice") == "a\nb\tc\r"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"<Response><Say>unclosed</Response>", "not well-formed"),
        (b"<html><body>Oops</body></html>", "root element is <html>"),
        (b'{"twiml": "<Response/>"}', "not well-formed"),
        (b"\xff\xfe<Response/>", "not well-formed"),
    ],
)
def test_malformed_documents_are_refused_with_a_reason(body: bytes, problem: str) -> None:
    with pytest.raises(TwimlError, match=problem):
        parse_twiml(body)


def test_a_syntax_error_names_line_and_column() -> None:
    with pytest.raises(TwimlError) as caught:
        parse_twiml(b"<Response>\n<Say>a</Sya>\n</Response>")
    assert (caught.value.line, caught.value.column) == (2, 8)  # as expat counts: columns from 0


@pytest.mark.parametrize(
    "body",
    [
        # billion laughs: entity expansion
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><Response>&b;</Response>',
        # external entity
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Response><Say>&x;</Say></Response>',
        # a DTD of any kind
        b'<?xml version="1.0"?><!DOCTYPE Response SYSTEM "http://example.com/twiml.dtd"><Response/>',
    ],
)
def test_hostile_constructs_are_refused(body: bytes) -> None:
    with pytest.raises(TwimlError, match="forbidden XML construct"):
        parse_twiml(body)


def test_size_and_depth_are_bounded() -> None:
    big = b"<Response><Say>" + b"a" * MAX_DOCUMENT_BYTES + b"</Say></Response>"
    with pytest.raises(TwimlError, match="more than the 65536 allowed"):
        parse_twiml(big)
    assert parse_twiml(big, max_bytes=len(big)).root[0].text == "a" * MAX_DOCUMENT_BYTES
    deep = b"<Response>" + b"<Gather>" * MAX_DEPTH + b"</Gather>" * MAX_DEPTH + b"</Response>"
    with pytest.raises(TwimlError, match="nested more than 32 deep"):
        parse_twiml(deep)


def test_other_encodings_are_read_and_written_as_utf8() -> None:
    body = '<?xml version="1.0" encoding="ISO-8859-1"?><Response><Say>Grüße</Say></Response>'.encode("latin-1")
    document = parse_twiml(body)
    assert document.root[0].text == "Grüße"
    assert document.to_xml().startswith(XML_DECLARATION) and "Grüße" in document.to_xml()


def test_replace_keeps_the_text_that_followed() -> None:
    document = parse_twiml("<Response><Say>a</Say>\n<Dial>1</Dial>\n<Hangup /></Response>")
    dial = document.root[1]
    document.replace(dial, [])
    assert document.to_xml() == XML_DECLARATION + "<Response><Say>a</Say>\n\n<Hangup /></Response>"


texts = st.text(alphabet=st.sampled_from("ab &<>\"'\n\t\r]]>é€𝄞"), max_size=12)
names = st.sampled_from(["Say", "Play", "Dial", "Number", "Gather", "Pause", "x:Ext"])


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(names)
    attributes = draw(st.dictionaries(st.sampled_from(["a", "voice", "x:b", "url"]), texts, max_size=3))
    children = draw(st.lists(trees(depth + 1), max_size=2)) if depth < 2 else []
    text = draw(texts)
    # ">" too: text holding "]]>" is not well-formed XML unless it is escaped
    escape = lambda value: value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")  # noqa: E731
    attrs = "".join(f' {k}="{escape(v)}"' for k, v in attributes.items())
    return f"<{name}{attrs}>{escape(text)}{''.join(children)}</{name}>"


@settings(max_examples=150, deadline=None)
@given(st.lists(trees(), max_size=3))
def test_any_document_comes_back_as_the_same_tree(children: list[str]) -> None:
    source = '<Response xmlns:x="urn:x">' + "".join(children) + "</Response>"
    written = parse_twiml(source).to_xml()
    assert _canonical(ElementTree.fromstring(written)) == _canonical(ElementTree.fromstring(source))
    assert parse_twiml(written).to_xml() == written


def _canonical(element: object) -> object:
    return (element.tag, dict(element.attrib), element.text or "", element.tail or "", [_canonical(c) for c in element])  # type: ignore[attr-defined]


def test_comments_and_instructions_around_the_response_are_kept() -> None:
    source = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- page located at http://example.com/dial.xml -->\n'
        "<?app-hint before?>\n<Response><Say>hi</Say></Response>\n<!-- after --><?app-hint after?>\n"
    )
    document = parse_twiml(source)
    # Only what XML keeps outside the root is kept there: not the whitespace between.
    assert document.to_xml() == XML_DECLARATION + (
        "<!-- page located at http://example.com/dial.xml --><?app-hint before?><Response><Say>hi</Say></Response>"
        "<!-- after --><?app-hint after?>"
    )
    # The input's own declaration is not an instruction: the document has one declaration.
    assert document.to_xml().count("<?xml") == 1


def test_the_depth_bound_is_unmoved_by_comments_around_the_response() -> None:
    inner = b"<Gather>" * (MAX_DEPTH - 1) + b"</Gather>" * (MAX_DEPTH - 1)
    assert parse_twiml(b"<!-- a --><Response>" + inner + b"</Response><!-- b -->").to_xml().endswith("</Response><!-- b -->")


outside = st.lists(
    st.one_of(
        st.builds(lambda text: ("comment", text), st.text(alphabet=st.sampled_from("ab <>&\n-é"), max_size=8)),
        st.builds(
            lambda target, text: ("pi", f"{target} {text}"),
            st.sampled_from(["app", "x-y", "hint"]),
            st.text(alphabet="ab<>&", min_size=1, max_size=8),  # expat drops the space before empty data
        ),
    ),
    max_size=4,
)


def _outside(items: list[tuple[str, str]]) -> str:
    # "--" and a final "-" are not allowed in a comment, nor "?>" in an instruction.
    return "".join(
        f"<!--{text.replace('-', '')}-->" if kind == "comment" else f"<?{text.replace('?>', '')}?>" for kind, text in items
    )


@settings(max_examples=150, deadline=None)
@given(before=outside, after=outside, children=st.lists(trees(), max_size=2), declared=st.booleans())
def test_any_comments_and_instructions_around_a_document_come_back(
    before: list[tuple[str, str]], after: list[tuple[str, str]], children: list[str], declared: bool
) -> None:
    body = '<Response xmlns:x="urn:x">' + "".join(children) + "</Response>"
    source = (XML_DECLARATION + "\n" if declared else "") + _outside(before) + "\n" + body + "\n" + _outside(after)
    written = parse_twiml(source).to_xml()
    assert written == XML_DECLARATION + _outside(before) + parse_twiml(body).to_xml()[len(XML_DECLARATION) :] + _outside(after)
    assert parse_twiml(written).to_xml() == written
