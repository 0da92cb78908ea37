"""The text of Word documents (``.docx``) and e-books (``.epub``) for the Data Bank.

Both are zip files of XML: a ``.docx`` keeps its body in ``word/document.xml`` (paragraphs
of runs of text), an ``.epub`` its chapters as XHTML files, in the order its package file's
spine gives. Only the text is kept: paragraphs as paragraphs, no styles, images or notes.
What a file may unpack to is bounded (a small zip can hold gigabytes of zeros).
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from urllib.parse import unquote
from xml.etree import ElementTree

from pytavern.engine.html_text import html_text
from pytavern.errors import ConfigError

MAX_UNPACKED_BYTES = 64 * 1024 * 1024
"""The most a document's parts may unpack to, all together."""
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_OPF = "{http://www.idpf.org/2007/opf}"
_XHTML_TYPES = ("application/xhtml+xml", "text/html")


def docx_text(filename: str, data: bytes) -> str:
    """The paragraphs of a Word document's body, a blank line between them; raise
    ``ConfigError`` when the file is no readable ``.docx``."""
    with _opened(filename, data, "a Word document (.docx)") as parts:
        body = _xml(filename, parts.read("word/document.xml"))
    paragraphs = _paragraphs(body)
    return _checked(filename, "\n\n".join(p for p in paragraphs if p.strip()))


def epub_text(filename: str, data: bytes) -> str:
    """The text of an e-book's chapters in reading order, a blank line between them;
    raise ``ConfigError`` when the file is no readable ``.epub``."""
    with _opened(filename, data, "an e-book (.epub)") as parts:
        chapters = [
            html_text(parts.read(name).decode("utf-8", "replace"))
            for name in _reading_order(filename, parts)
        ]
    return _checked(filename, "\n\n".join(c for c in chapters if c))


class _Parts:
    """A zip file's members, read within ``MAX_UNPACKED_BYTES`` in all."""

    def __init__(self, filename: str, archive: zipfile.ZipFile) -> None:
        self._filename = filename
        self._archive = archive
        self._left = MAX_UNPACKED_BYTES
        self.names = frozenset(archive.namelist())

    def read(self, name: str) -> bytes:
        """The member ``name`` unpacked (``ConfigError`` when it is missing or too big)."""
        if name not in self.names:
            raise ConfigError(
                f"{self._filename} has no {name}",
                hint="Open it in its program and save it again, or save its text as .txt",
            )
        with self._archive.open(name) as member:
            data = member.read(self._left + 1)
        self._left -= len(data)
        if self._left < 0:
            raise ConfigError(
                f"{self._filename} unpacks to more than {MAX_UNPACKED_BYTES // 1024 // 1024} MB",
                hint="Attach the parts that matter, saved as text",
            )
        return data


@contextmanager
def _opened(filename: str, data: bytes, kind: str) -> Iterator[_Parts]:
    """The parts of a zip file, or ``ConfigError`` saying what it should have been."""
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as error:
        raise ConfigError(
            f"{filename} is not {kind} ({error})",
            hint="Open it in its program and save it again, or save its text as .txt",
        ) from error
    with archive:
        yield _Parts(filename, archive)


def _xml(filename: str, data: bytes) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise ConfigError(
            f"{filename} holds XML that cannot be read ({error})",
            hint="Open it in its program and save it again, or save its text as .txt",
        ) from error


def _paragraphs(body: ElementTree.Element) -> list[str]:
    """The text of each ``w:p`` under ``body`` in document order (a text box's paragraphs,
    nested in a paragraph, come as their own, before it). Walked with a stack of its own:
    a document may nest deeper than Python's recursion allows."""
    out: list[str] = []
    open_paragraphs: list[list[str]] = []
    walk: list[tuple[Iterator[ElementTree.Element], bool]] = [(iter(body), False)]
    while walk:
        children, is_paragraph = walk[-1]
        child = next(children, None)
        if child is None:
            walk.pop()
            if is_paragraph:
                out.append("".join(open_paragraphs.pop()))
            continue
        tag = child.tag
        if tag == f"{_W}p":
            open_paragraphs.append([])
            walk.append((iter(child), True))
        elif open_paragraphs and tag == f"{_W}t":
            open_paragraphs[-1].append(child.text or "")
        elif open_paragraphs and tag == f"{_W}tab":
            open_paragraphs[-1].append("\t")
        elif open_paragraphs and tag in (f"{_W}br", f"{_W}cr"):
            open_paragraphs[-1].append("\n")
        else:
            walk.append((iter(child), False))
    return out


def _reading_order(filename: str, parts: _Parts) -> list[str]:
    """The chapters' member names in the spine's order (every XHTML file by name when
    the package file or its spine cannot be read)."""
    package = _package_path(filename, parts)
    spine = [] if package is None else _spine(filename, parts, package)
    return spine or sorted(n for n in parts.names if n.endswith((".xhtml", ".html", ".htm")))


def _spine(filename: str, parts: _Parts, package: str) -> list[str]:
    root = _xml(filename, parts.read(package))
    folder = posixpath.dirname(package)
    items = {
        item.get("id"): item
        for item in root.iter(f"{_OPF}item")
        if item.get("media-type") in _XHTML_TYPES
    }
    names = []
    for itemref in root.iter(f"{_OPF}itemref"):
        item = items.get(itemref.get("idref"))
        href = item.get("href") if item is not None else None
        if href:
            name = posixpath.normpath(posixpath.join(folder, unquote(href.split("#")[0])))
            if name in parts.names:
                names.append(name)
    return names


def _package_path(filename: str, parts: _Parts) -> str | None:
    if "META-INF/container.xml" not in parts.names:
        return None
    container = _xml(filename, parts.read("META-INF/container.xml"))
    rootfile = next(container.iter(f"{_CONTAINER}rootfile"), None)
    path = rootfile.get("full-path") if rootfile is not None else None
    return path if path in parts.names else None


def _checked(filename: str, text: str) -> str:
    if not text.strip():
        raise ConfigError(
            f"{filename} has no text", hint="Check that it is the right file, or attach text"
        )
    return text
