"""The printable written notice: a PDF letter with its registration number (SHL-3 "in
writing", NTF-7). Rendered with ReportLab in DejaVu Sans, embedded, so Cyrillic and the Kazakh
letters (ә ғ қ ң ө ұ and the others) print as written."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

FONT_NAME = "DejaVuSans"
FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _font() -> str:
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        if not FONT_PATH.exists():
            # Without the font the letter would print Kazakh names as boxes: refuse instead.
            raise RuntimeError(f"letter font missing: {FONT_PATH} (fonts-dejavu-core)")
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH)))
    return FONT_NAME


def registration_number(*, territory: str, year: int, sequence: int) -> str:
    """E.g. `KZ-AST-2026-000042`: unique by the database sequence, readable on paper."""
    return f"{territory.upper()}-{year}-{sequence:06d}"


def render(
    *,
    registration: str,
    registered_at: datetime,
    rule: str,
    sender: str,
    recipient: str,
    territory: str,
    due_at: datetime,
    text: str,
) -> bytes:
    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=15)
    head = ParagraphStyle("head", parent=body, fontSize=14, leading=19)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=f"Notice {registration}",
        author=sender,
    )
    story = [
        Paragraph(escape(f"Уведомление / Хабарлама / Notice No. {registration}"), head),
        Paragraph(escape(f"Registered {registered_at.isoformat(timespec='minutes')}"), body),
        Paragraph(escape(f"Rule: {rule}; due by {due_at.isoformat(timespec='minutes')}"), body),
        Paragraph(escape(f"From: {sender}; to: {recipient} ({territory})"), body),
        Spacer(1, 6 * mm),
        *(Paragraph(escape(line), body) for line in text.splitlines() if line.strip()),
    ]
    doc.build(story)
    return out.getvalue()
