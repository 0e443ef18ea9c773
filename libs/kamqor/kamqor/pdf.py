"""Printable documents: A4 PDFs rendered with ReportLab in DejaVu Sans, embedded, so Cyrillic and
the Kazakh letters (ә ғ қ ң ө ұ and the others) print as written.

Shared by the services that print (notify's registered letters, plans' monitoring reports); each
of them declares `reportlab` as its own dependency, the kit does not import this module itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate

FONT_NAME = "DejaVuSans"
FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def font() -> str:
    """The registered font's name; refuses to print without it rather than print boxes."""
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        if not FONT_PATH.exists():
            # Without the font a document would print Kazakh names as boxes: refuse instead.
            raise RuntimeError(f"document font missing: {FONT_PATH} (fonts-dejavu-core)")
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH)))
    return FONT_NAME


@dataclass(frozen=True)
class Styles:
    body: ParagraphStyle
    head: ParagraphStyle
    section: ParagraphStyle


def styles() -> Styles:
    body = ParagraphStyle("body", fontName=font(), fontSize=11, leading=15)
    return Styles(
        body=body,
        head=ParagraphStyle("head", parent=body, fontSize=14, leading=19),
        section=ParagraphStyle("section", parent=body, fontSize=12, leading=17, spaceBefore=8),
    )


def document(out: IO[bytes], *, title: str, author: str) -> SimpleDocTemplate:
    """An A4 page with 20 mm margins, writing to `out`."""
    return SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=title,
        author=author,
    )


def paragraphs(text: str, style: ParagraphStyle) -> list[Paragraph]:
    """One paragraph per non-blank line of plain text (escaped: the text is not markup)."""
    return [Paragraph(escape(line), style) for line in text.splitlines() if line.strip()]


def line(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def lines(texts: Iterable[str], style: ParagraphStyle) -> list[Paragraph]:
    return [line(t, style) for t in texts]
