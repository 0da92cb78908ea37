"""Word documents and e-books in the Data Bank: their text in reading order, paragraphs
kept; a file that is not what its name says, or unpacks too far, is refused with a hint."""

from __future__ import annotations

import io
import zipfile

import pytest

from pytavern.engine import office_text
from pytavern.engine.databank import document_text
from pytavern.errors import ConfigError
from tests.office_files import docx, epub, paragraph


def test_a_word_documents_paragraphs_tabs_breaks_tables_and_text_boxes() -> None:
    box = f"<w:r><w:pict><w:txbxContent>{paragraph('In a box')}</w:txbxContent></w:pict></w:r>"
    cells = f"<w:tc>{paragraph('Cell one')}</w:tc><w:tc>{paragraph('Cell two')}</w:tc>"
    table = f"<w:tbl><w:tr>{cells}</w:tr></w:tbl>"
    body = (
        paragraph("The keeper ", "is Orrin.")
        + "<w:p/>"
        + paragraph("Name\tRole", "\nsecond line")
        + table
        + f"<w:p>{box[:-6]}<w:t>after</w:t></w:r></w:p>"
    )
    assert document_text("rules.DOCX", docx(body)) == (
        "The keeper is Orrin.\n\nName\tRole\nsecond line\n\nCell one\n\nCell two"
        "\n\nIn a box\n\nafter"
    )


def test_a_word_document_nested_deeper_than_pythons_recursion_is_read() -> None:
    deep = "<w:sdt>" * 5000 + paragraph("Deep down") + "</w:sdt>" * 5000
    assert document_text("deep.docx", docx(deep)) == "Deep down"


def test_an_ebooks_chapters_in_its_spines_order() -> None:
    book = epub(
        {
            "a intro.xhtml": "<h1>Intro</h1><p>The keeper is Orrin.</p>",
            "b.xhtml": "<p>Chapter two: the cat <b>Mizzen</b>.</p><script>x()</script>",
            "notes.xhtml": "<p>Not in the spine.</p>",
        },
        spine=["b.xhtml", "a intro.xhtml"],
    )
    assert document_text("tale.epub", book) == (
        "Chapter two: the cat Mizzen.\n\nIntro\n\nThe keeper is Orrin."
    )


def test_an_ebook_without_a_package_file_or_spine_is_read_by_file_name() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("2.xhtml", "<p>Second</p>")
        archive.writestr("1.xhtml", "<p>First</p>")
    assert document_text("loose.epub", out.getvalue()) == "First\n\nSecond"
    container = (
        '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        '<rootfiles><rootfile full-path="p.opf"/></rootfiles></container>'
    )
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr("META-INF/container.xml", container)
        archive.writestr("p.opf", "<package><spine/></package>")  # no namespace: no spine
    assert document_text("odd.epub", out.getvalue()) == "First\n\nSecond"


def test_files_that_are_not_what_they_say_are_refused_with_a_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigError, match=r"not a Word document") as refused:
        document_text("book.docx", b"PK\x03\x04 not a zip")
    assert refused.value.hint and ".txt" in refused.value.hint
    with pytest.raises(ConfigError, match=r"has no word/document.xml"):
        document_text("book.docx", epub({"a.xhtml": "<p>x</p>"}, ["a.xhtml"]))
    with pytest.raises(ConfigError, match=r"not an e-book"):
        document_text("book.epub", b"plain text")
    with pytest.raises(ConfigError, match=r"has no text"):
        document_text("empty.docx", docx("<w:p/>"))
    with pytest.raises(ConfigError, match=r"cannot be read"):
        document_text("bad.docx", docx("<w:p>"))  # not closed
    monkeypatch.setattr(office_text, "MAX_UNPACKED_BYTES", 100)
    with pytest.raises(ConfigError, match=r"unpacks to more than"):
        document_text("big.docx", docx(paragraph("x" * 500)))
