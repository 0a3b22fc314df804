"""Read TwiML someone else wrote, safely, and write it back unchanged except for our edits.

:func:`parse_twiml` uses defusedxml's parser: a DTD, an entity declaration or an external
reference is refused, so a hostile document can neither expand nor fetch anything; a size
bound (Twilio's own limit on a TwiML answer) and a nesting bound keep it small. The tree is
the standard library's ElementTree with comments and processing instructions kept, those
before and after the ``<Response>`` too (ElementTree's builder drops them: they have no parent).
The input's ``<?xml …?>`` declaration is not one of them; :meth:`TwimlDocument.to_xml` writes
its own.

ElementTree's own serialiser renames every namespace prefix (``ns0:``) and drops declarations
nobody uses, so :class:`TwimlDocument` remembers each element's namespace declarations and
:meth:`TwimlDocument.to_xml` writes them back where the author put them.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Comment, Element, ParseError, ProcessingInstruction, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from .errors import TwimlError

# Twilio refuses TwiML answers larger than this.
MAX_DOCUMENT_BYTES = 65_536
# TwiML nests four deep at most (Response, Gather, Say, SSML); anything far deeper is not TwiML.
MAX_DEPTH = 32
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"

NamespaceDeclarations = tuple[tuple[str, str], ...]  # (prefix, URI); "" is the default namespace


def local_name(tag: object) -> str:
    """``Dial`` for ``Dial`` and ``{urn:example}Dial``; "" for comments and processing instructions."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[1] if tag.startswith("{") else tag


def same_namespace(element: Element, name: str) -> str:
    """The tag ``name`` in ``element``'s namespace, for elements inserted next to it."""
    tag = element.tag
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[: tag.index("}") + 1] + name
    return name


class _Builder(TreeBuilder):
    """ElementTree's builder, plus each element's namespace declarations, the comments and
    processing instructions outside the root element, and a depth bound."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(insert_comments=True, insert_pis=True)
        self.max_depth = max_depth
        self.depth = 0
        self.pending: list[tuple[str, str]] = []
        self.declarations: dict[Element, NamespaceDeclarations] = {}
        self.before_root: list[Element] = []
        self.after_root: list[Element] = []
        self.root_seen = False

    def start_ns(self, prefix: str, uri: str) -> None:
        self.pending.append((prefix or "", uri))

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self.depth += 1
        if self.depth > self.max_depth:
            raise TwimlError(f"elements are nested more than {self.max_depth} deep")
        self.root_seen = True
        element = super().start(tag, attrs)
        if self.pending:
            self.declarations[element] = tuple(self.pending)
            self.pending = []
        return element

    def end(self, tag: str) -> Element:
        self.depth -= 1
        return super().end(tag)

    def comment(self, text: str | None) -> Element:
        return self._outside_root(super().comment(text))

    def pi(self, target: str, text: str | None = None) -> Element:
        return self._outside_root(super().pi(target, text))

    def _outside_root(self, node: Element) -> Element:
        # Inside the root the builder has put the node in its parent already.
        if self.depth == 0:
            (self.after_root if self.root_seen else self.before_root).append(node)
        return node


class TwimlDocument:
    """A parsed TwiML document: its ``<Response>`` element, where namespaces were declared, and
    the comments and processing instructions before and after the ``<Response>``, in order."""

    def __init__(
        self,
        root: Element,
        declarations: dict[Element, NamespaceDeclarations] | None = None,
        *,
        before_root: list[Element] | None = None,
        after_root: list[Element] | None = None,
    ) -> None:
        self.root = root
        self.declarations = declarations or {}
        self.before_root = before_root or []
        self.after_root = after_root or []
        self._parents: dict[Element, Element] | None = None

    def iter(self, name: str) -> Iterator[Element]:
        """Every element called ``name`` (in any namespace), in document order."""
        for element in self.root.iter():
            if local_name(element.tag) == name:
                yield element

    def parent(self, element: Element) -> Element | None:
        """The element's parent (None for the root), from a map built on first use."""
        if self._parents is None:
            self._parents = {child: parent for parent in self.root.iter() for child in parent}
        return self._parents.get(element)

    def replace(self, element: Element, replacements: list[Element]) -> None:
        """Put ``replacements`` where ``element`` was; the text that followed it stays where it was."""
        parent = self.parent(element)
        if parent is None:
            raise ValueError("the root element cannot be replaced")
        index = list(parent).index(element)
        tail = element.tail
        parent.remove(element)
        for offset, replacement in enumerate(replacements):
            parent.insert(index + offset, replacement)
            if self._parents is not None:
                self._parents[replacement] = parent
        if replacements:
            replacements[-1].tail = tail
        else:
            append_text(parent, index, tail)

    def to_xml(self) -> str:
        """The document as text, with an XML declaration for UTF-8."""
        out = [XML_DECLARATION]
        scope = {"xml": _XML_NAMESPACE}
        for element in (*self.before_root, self.root, *self.after_root):
            self._write(out, element, scope)
        return "".join(out)

    def _write(self, out: list[str], element: Element, scope: dict[str, str]) -> None:
        tag: object = element.tag  # a str, or ElementTree's Comment or ProcessingInstruction factory
        if tag is Comment:
            out.append(f"<!--{element.text or ''}-->")
        elif tag is ProcessingInstruction:
            out.append(f"<?{element.text or ''}?>")
        else:
            declared = list(self.declarations.get(element, ()))
            scope = dict(scope)  # this element's bindings end with it
            if declared:
                for prefix, uri in declared:
                    scope.pop(prefix, None)  # re-inserted last: the innermost binding wins a lookup
                    scope[prefix] = uri
            name = _qualified(element.tag, scope, declared, attribute=False)
            attributes = [(_qualified(key, scope, declared, attribute=True), value) for key, value in element.attrib.items()]
            out.append("<" + name)
            for prefix, uri in declared:
                out.append(f' xmlns:{prefix}="{_escape_attribute(uri)}"' if prefix else f' xmlns="{_escape_attribute(uri)}"')
            for key, value in attributes:
                out.append(f' {key}="{_escape_attribute(value)}"')
            if element.text or len(element):
                out.append(">")
                if element.text:
                    out.append(_escape_text(element.text))
                for child in element:
                    self._write(out, child, scope)
                out.append(f"</{name}>")
            else:
                out.append(" />")
        if element.tail:
            out.append(_escape_text(element.tail))


def append_text(parent: Element, index: int, text: str | None) -> None:
    """Add ``text`` after the child at ``index - 1`` (or at the start of ``parent``)."""
    if not text:
        return
    if index == 0:
        parent.text = (parent.text or "") + text
    else:
        previous = parent[index - 1]
        previous.tail = (previous.tail or "") + text


def _qualified(tag: str, scope: dict[str, str], declared: list[tuple[str, str]], *, attribute: bool) -> str:
    if not tag.startswith("{"):
        return tag
    uri, local = tag[1:].split("}", 1)
    for prefix in reversed(scope):
        # An attribute without a prefix is in no namespace, so it needs a real prefix.
        if scope[prefix] == uri and (prefix or not attribute):
            return f"{prefix}:{local}" if prefix else local
    # Only an element inserted by hand can get here; give its namespace a prefix of its own.
    prefix = f"ns{len(scope)}"
    while prefix in scope:
        prefix += "_"
    scope[prefix] = uri
    declared.append((prefix, uri))
    return f"{prefix}:{local}"


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _escape_attribute(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def parse_twiml(body: bytes | str, *, max_bytes: int = MAX_DOCUMENT_BYTES, max_depth: int = MAX_DEPTH) -> TwimlDocument:
    """Parse a TwiML document; :class:`~twiml.errors.TwimlError` says what is wrong with a bad one."""
    data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    if len(data) > max_bytes:
        raise TwimlError(f"the document is {len(data)} bytes, more than the {max_bytes} allowed")
    if not data.strip():
        raise TwimlError("the document is empty")
    builder = _Builder(max_depth)
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    try:
        parser.feed(data)
        root = parser.close()
    except ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        problem = str(exc).split(": line ", 1)[0]
        raise TwimlError(f"not well-formed XML: {problem}", line=line, column=column) from None
    except DefusedXmlException as exc:
        raise TwimlError(f"forbidden XML construct: {type(exc).__name__}") from None
    except (ValueError, LookupError) as exc:  # an encoding expat does not know
        raise TwimlError(f"unreadable document: {exc}") from None
    if local_name(root.tag) != "Response":
        raise TwimlError(f"the root element is <{local_name(root.tag) or root.tag}>, not <Response>")
    return TwimlDocument(root, builder.declarations, before_root=builder.before_root, after_root=builder.after_root)
