"""``facilitator recover [SESSION_DIR]``: finish sessions that were cut short, from their journals."""

from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "recover", help="rebuild sessions that were cut short (crash, kill, power loss) from their journal",
        description=("A session whose process died leaves its event journal (events.jsonl) without a "
                     "session.json. recover folds the journal into the summary, the reports and the "
                     "history row; at most the last second of the session is lost. Without "
                     "SESSION_DIR, every unfinished session in the user's sessions directory is "
                     "recovered (--list only lists them). The journal is never changed."))
    p.add_argument("session_dir", nargs="?", type=Path, metavar="SESSION_DIR",
                   help="the session directory to recover (default: all unfinished sessions)")
    p.add_argument("--list", action="store_true", help="only list the unfinished sessions")
    p.add_argument("--force", action="store_true",
                   help="rebuild SESSION_DIR from its journal even if it has a session.json")
    p.add_argument("--no-history", action="store_true",
                   help="do not add the recovered sessions to the history database")
    p.set_defaults(func=run)


def _describe(summary: dict) -> str:
    people = ", ".join(f"{s['name']} {s['floor_s']:.0f} s" for s in summary["speakers"]) or "no speech"
    minutes, seconds = divmod(int(round(summary["duration_s"] or 0)), 60)
    return f"{minutes}:{seconds:02d} recovered ({people})"


def run(args) -> int:
    from facilitator.recovery import find_unfinished, recover

    if args.session_dir is not None:
        if args.list:
            from facilitator.errors import UserError

            raise UserError("--list lists the unfinished sessions; give no SESSION_DIR with it")
        summary = recover(args.session_dir, history=not args.no_history, force=args.force)
        print(f"{args.session_dir}: {_describe(summary)}")
        return 0
    unfinished = find_unfinished()
    if not unfinished:
        print("no unfinished sessions")
        return 0
    if args.list:
        for u in unfinished:
            minutes, seconds = divmod(int(round(u.reached_s)), 60)
            print(f"{u.path}  started {u.started_at or '?'}  reached {minutes}:{seconds:02d}  "
                  f"source {u.source}")
        return 0
    failed = 0
    for u in unfinished:
        from facilitator.errors import UserError

        try:
            summary = recover(u.path, history=not args.no_history)
        except UserError as exc:  # one bad session must not stop the others
            print(f"{u.path}: not recovered: {exc}")
            failed += 1
            continue
        print(f"{u.path}: {_describe(summary)}")
    return 1 if failed else 0
