"""The quarterly reports of a quarter as files (REG-7): CSV for the ministry's spreadsheets, PDF
to print (the kit's `kamqor.pdf`). Counts only: no person is named."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from kamqor import pdf
from registry.models.reporting import QuarterReport

COLUMNS = (
    "territory",
    "quarter",
    "level",
    "agency",
    "families_on_record",
    "minors_on_record",
    "families_registered",
    "families_deregistered",
    "office_reports",
    "as_of",
    "submitted_at",
)


def _row(report: QuarterReport) -> list[str]:
    values = {
        **{c: str(getattr(report, c)) for c in COLUMNS},
        "as_of": report.as_of.isoformat(),
        "submitted_at": report.submitted_at.isoformat(),
    }
    return [values[c] for c in COLUMNS]


def to_csv(reports: Sequence[QuarterReport]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(_row(r) for r in reports)
    # With a BOM, so spreadsheet programs read the file as UTF-8.
    return out.getvalue().encode("utf-8-sig")


def to_pdf(reports: Sequence[QuarterReport], *, territory: str, quarter: str) -> bytes:
    style = pdf.styles()
    out = io.BytesIO()
    doc = pdf.document(out, title=f"REG-7 {territory} {quarter}", author="Kamqor registry")
    story = [
        pdf.line(
            f"Сведения о семьях и несовершеннолетних, состоящих на учете в Банке данных, "  # noqa: RUF001
            f"{quarter} / Families and minors on record, {quarter} ({territory})",
            style.head,
        ),
        Spacer(1, 4 * mm),
    ]
    if not reports:
        story.append(pdf.line("No report submitted for this quarter.", style.body))
    for r in reports:
        title = "Registry office" if r.level == "office" else "Ministry summary"
        story += [
            pdf.line(f"{title}: {r.agency}", style.section),
            *pdf.lines(
                [
                    f"Families on record at {r.as_of.isoformat(timespec='minutes')}: "
                    f"{r.families_on_record}",
                    f"Minors on record: {r.minors_on_record}",
                    f"Entered during the quarter: {r.families_registered}; "
                    f"removed: {r.families_deregistered}",
                    *(
                        [f"Office reports summed: {r.office_reports}"]
                        if r.level != "office"
                        else []
                    ),
                    f"Submitted {r.submitted_at.isoformat(timespec='minutes')}",
                ],
                style.body,
            ),
        ]
    doc.build(story)
    return out.getvalue()
