"""``facilitator forget``: remove a session, or a person, from files, history and stored voices."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "forget",
        help="remove a session, or everything about a person, everywhere",
        description=(
            "Remove a session (its directory and its history rows), or with --person every session the "
            "person took part in, their history entry and their stored voice. The history database is "
            "compacted afterwards so the removed data is gone from the file too."
        ),
    )
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("session", metavar="SESSION", nargs="?", help="a session directory or session id")
    target.add_argument("--person", metavar="NAME", help="forget this person (case does not matter)")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    p.add_argument("--db", metavar="FILE", type=Path, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args) -> int:
    from facilitator.errors import UserError
    from facilitator.history import forget

    plan = forget.plan_person(args.person, args.db) if args.person else forget.plan_session(args.session, args.db)
    subject = args.person if args.person else args.session
    if plan.empty:
        print(f"Nothing stored about {subject}.")
        return 0
    print(f"To remove for {subject}: {plan.describe()}.")
    if args.dry_run:
        for d in sorted(plan.dirs):
            print(f"  {d}")
        for v in plan.voices:
            print(f"  {v}")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserError("forget removes data for good: add --yes to confirm")
        if input("Remove for good? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing removed.")
            return 1
    left = forget.execute(plan, args.db)
    print(f"Removed {plan.describe()}.")
    for path in left:
        print(f"  left {path} (not written by facilitator)")
    return 0
