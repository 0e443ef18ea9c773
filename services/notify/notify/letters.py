"""The printable written notice: a PDF letter with its registration number (SHL-3 "in
writing", NTF-7), printed by the kit's `pdf` (DejaVu Sans embedded: Cyrillic and Kazakh letters
print as written)."""

from __future__ import annotations

import io
from datetime import datetime

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from kamqor import pdf


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
    style = pdf.styles()
    out = io.BytesIO()
    doc = pdf.document(out, title=f"Notice {registration}", author=sender)
    story = [
        pdf.line(f"Уведомление / Хабарлама / Notice No. {registration}", style.head),
        pdf.line(f"Registered {registered_at.isoformat(timespec='minutes')}", style.body),
        pdf.line(f"Rule: {rule}; due by {due_at.isoformat(timespec='minutes')}", style.body),
        pdf.line(f"From: {sender}; to: {recipient} ({territory})", style.body),
        Spacer(1, 6 * mm),
        *pdf.paragraphs(text, style.body),
    ]
    doc.build(story)
    return out.getvalue()
