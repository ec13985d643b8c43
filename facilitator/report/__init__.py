"""Post-session reports: ``report.html`` (inline SVG charts), ``report.md``, ``segments.csv`` and the
terminal summary, all built from one set of formatted figures (:mod:`facilitator.report.figures`).

Importing this package is cheap (no matplotlib); charts are drawn only by :func:`write_reports`.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from facilitator.report.figures import (
    balance_line,
    equal_share,
    interruption_matrix,
    plain_words_reading,
)
from facilitator.report.load import (
    Segment,
    load_segments,
    load_session,
    resolve_session,
    write_private_text,
)
from facilitator.report.text import markdown_report, summary_table

__all__ = [
    "write_reports",
    "summary_table",
    "plain_words_reading",
    "balance_line",
    "load_session",
    "load_segments",
    "resolve_session",
    "render",
    "FORMATS",
]

REPORT_FILES = {"html": "report.html", "md": "report.md", "csv": "segments.csv"}
FORMATS = ("html", "md", "json", "csv")


def segments_csv(segments: list[Segment]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["speaker", "start_s", "end_s", "duration_s"])
    for seg in segments:
        writer.writerow([seg.speaker, f"{seg.start_s:.3f}", f"{seg.end_s:.3f}", f"{seg.duration_s:.3f}"])
    return buf.getvalue()


def report_json(session: dict) -> str:
    """session.json plus the derived figures the report shows (under ``"report"``)."""
    names, counts = interruption_matrix(session)
    out = dict(session)
    out["report"] = {
        "reading": plain_words_reading(session),
        "balance": balance_line(session),
        "equal_share": equal_share(session),
        "interruption_matrix": {"names": names, "counts": counts},
    }
    return json.dumps(out, indent=2, ensure_ascii=False) + "\n"


def render(session_dir: Path, fmt: str, session: dict | None = None) -> str:
    """One report format as text (``html``, ``md``, ``json`` or ``csv``)."""
    session_dir = Path(session_dir)
    session = session if session is not None else load_session(session_dir)
    if fmt == "json":
        return report_json(session)
    segments = load_segments(session_dir)
    if fmt == "csv":
        return segments_csv(segments)
    if fmt == "md":
        return markdown_report(session, segments)
    if fmt == "html":
        from facilitator.report.html import html_report

        return html_report(session, segments)
    raise ValueError(f"unknown report format {fmt!r}")


def write_reports(session_dir: Path) -> dict[str, Path]:
    """Write ``report.html``, ``report.md`` and ``segments.csv`` (0600) into ``session_dir``."""
    session_dir = Path(session_dir)
    session = load_session(session_dir)
    segments = load_segments(session_dir)
    from facilitator.report.html import html_report

    texts = {
        "html": html_report(session, segments),
        "md": markdown_report(session, segments),
        "csv": segments_csv(segments),
    }
    return {fmt: write_private_text(session_dir / REPORT_FILES[fmt], text) for fmt, text in texts.items()}
