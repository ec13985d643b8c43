"""``facilitator history``: stored sessions and trends, in the terminal or as an HTML page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "history",
        help="list stored sessions and trends (share per person, interruptions per hour, balance)",
        description=(
            "List the sessions stored in the history with each person's share of the floor, interruptions "
            "per hour and balance, with small charts. Names match across sessions regardless of case."
        ),
    )
    p.add_argument("--person", metavar="NAME", help="only sessions with this person, and their own figures")
    p.add_argument("--since", metavar="DATE", help="only sessions from DATE on (2026-09-01, or a span: 30d, 12w)")
    p.add_argument("--html", metavar="FILE", type=Path, help="also write the history as a self-contained HTML page")
    p.add_argument("--compare", metavar="N", type=int,
                   help="say in words what changed between the last N sessions and the N before them")
    p.add_argument("--db", metavar="FILE", type=Path, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args) -> int:
    from facilitator.errors import UserError
    from facilitator.history import _db, compare, query
    from facilitator.history.render import history_text
    from facilitator.history.trends import known_people

    sessions = query(args.db, person=args.person, since=args.since)
    if args.person and not sessions and not args.since:
        conn = _db.connect(args.db, create=False)
        known = []
        if conn is not None:
            with _db.guard(conn.db_path):
                known = known_people(conn)
            conn.close()
        hint = f" Known people: {', '.join(known)}." if known else ""
        raise UserError(f"no stored session with '{args.person}'.{hint}")
    comparison = compare(sessions, args.compare) if args.compare is not None else ""
    if args.compare is not None:
        print(comparison)
    else:
        sys.stdout.write(history_text(sessions, person=args.person, since=args.since))
    if args.html is not None:
        from facilitator.history.render import history_html
        from facilitator.report.load import write_private_text

        try:
            write_private_text(args.html, history_html(sessions, person=args.person, comparison=comparison))
        except OSError as exc:
            raise UserError(f"cannot write {args.html}: {exc.strerror}") from None
        print(f"wrote {args.html}")
    return 0
