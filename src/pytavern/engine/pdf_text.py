"""The text of a PDF, page by page (what the Data Bank keeps of an attached PDF).

``pypdf`` reads the text layer; a scan without one has no text to give. Imported only
when a PDF is attached (it takes ~80 ms to import).
"""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from pytavern.errors import ConfigError

MAX_PAGES = 5000
"""The most pages read from one PDF."""


def pdf_text(filename: str, data: bytes) -> str:
    """The text of every page, a blank line between pages; raise ``ConfigError`` when the
    file is no readable PDF, is encrypted, or has no text layer."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged page is skipped quietly
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ConfigError(
                f"{filename} is encrypted",
                hint="Save it without a password (or print it to a new PDF) and attach that",
            )
        pages = [_page_text(page) for page in reader.pages[:MAX_PAGES]]
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(
            f"{filename} could not be read as a PDF ({error})",
            hint="Open it in a PDF reader and save it again, or save its text as .txt",
        ) from error
    text = "\n\n".join(page for page in pages if page)
    if not text.strip():
        raise ConfigError(
            f"{filename} has no text layer (a scan?)",
            hint="Run it through OCR, or save its text as .txt and attach that",
        )
    return text


def _page_text(page: object) -> str:
    extract = getattr(page, "extract_text", None)
    try:
        text = extract() if callable(extract) else ""
    except (PdfReadError, ValueError, KeyError, TypeError):
        return ""  # one unreadable page does not cost the others
    return str(text or "").strip()
