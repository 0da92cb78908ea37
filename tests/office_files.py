"""Small Word documents and e-books for tests, zipped as their programs write them."""

from __future__ import annotations

import io
import zipfile

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx(paragraphs_xml: str) -> bytes:
    """A ``.docx`` whose body is ``paragraphs_xml`` (``w:`` elements)."""
    body = f"<w:body>{paragraphs_xml}</w:body>"
    document = f'<?xml version="1.0"?><w:document {_W}>{body}</w:document>'
    return _zip(
        {
            "[Content_Types].xml": "<Types/>",
            "word/document.xml": document,
            "word/styles.xml": f"<w:styles {_W}/>",
        }
    )


def paragraph(*runs: str) -> str:
    """A ``w:p`` of runs of text (``\\t`` a tab, ``\\n`` a line break)."""
    parts = []
    for run in runs:
        pieces = []
        for index, line in enumerate(run.split("\n")):
            if index:
                pieces.append("<w:br/>")
            for cell, text in enumerate(line.split("\t")):
                if cell:
                    pieces.append("<w:tab/>")
                pieces.append(f'<w:t xml:space="preserve">{text}</w:t>')
        parts.append(f"<w:r>{''.join(pieces)}</w:r>")
    return f"<w:p>{''.join(parts)}</w:p>"


def epub(chapters: dict[str, str], spine: list[str], folder: str = "OEBPS") -> bytes:
    """An ``.epub``: ``chapters`` (file name -> body HTML) read in the ``spine``'s order."""
    items = "".join(
        f'<item id="c{i}" href="{name.replace(" ", "%20")}" media-type="application/xhtml+xml"/>'
        for i, name in enumerate(chapters)
    )
    ids = {name: f"c{i}" for i, name in enumerate(chapters)}
    refs = "".join(f'<itemref idref="{ids[name]}"/>' for name in spine)
    package = (
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
        f'<manifest>{items}<item id="css" href="s.css" media-type="text/css"/></manifest>'
        f"<spine>{refs}</spine></package>"
    )
    container = (
        '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0">'
        f'<rootfiles><rootfile full-path="{folder}/content.opf" '
        'media-type="application/oebps-package+xml"/></rootfiles></container>'
    )
    files = {"mimetype": "application/epub+zip", "META-INF/container.xml": container}
    files[f"{folder}/content.opf"] = package
    files[f"{folder}/s.css"] = "p { color: red }"
    for name, body in chapters.items():
        files[f"{folder}/{name}"] = (
            '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head>'
            f"<body>{body}</body></html>"
        )
    return _zip(files)


def _zip(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()
