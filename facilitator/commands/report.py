"""``facilitator report SESSION``: (re)write a session's report files and show or print one of them."""

from __future__ import annotations

import sys
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report",
        help="write a session's report (HTML, Markdown, CSV) and show its summary",
        description=(
            "Write report.html, report.md and segments.csv into the session directory and print the "
            "summary. With --format, print that format instead (md, json, csv) or the path of report.html; "
            "with --out, write that format to a file."
        ),
    )
    p.add_argument("session", metavar="SESSION", help="a session directory, or a session id under the data dir")
    p.add_argument("--format", choices=("html", "md", "json", "csv"), help="the format to print or write")
    p.add_argument("--out", metavar="FILE", type=Path, help="write the chosen format (default html) to FILE")
    p.set_defaults(func=run)


def run(args) -> int:
    from facilitator.errors import UserError
    from facilitator.report import load_session, render, resolve_session, summary_table, write_reports
    from facilitator.report.load import write_private_text

    session_dir = resolve_session(args.session)
    session = load_session(session_dir)
    try:
        written = write_reports(session_dir)
    except PermissionError as exc:
        raise UserError(f"cannot write the report into {session_dir}: {exc.strerror}") from None
    if args.out is not None:
        fmt = args.format or "html"
        try:
            write_private_text(args.out, render(session_dir, fmt, session))
        except OSError as exc:
            raise UserError(f"cannot write {args.out}: {exc.strerror}") from None
        print(args.out)
        return 0
    if args.format == "html":
        print(written["html"])
    elif args.format in ("md", "json", "csv"):
        sys.stdout.write(render(session_dir, args.format, session))
    else:
        sys.stdout.write(summary_table(session))
        print()
        for path in written.values():
            print(f"wrote {path}")
    return 0
