"""``facilitator evaluate``: score session directories against reference annotations."""

from __future__ import annotations

import argparse
import json
import math
import sys

from facilitator.errors import UserError

DESCRIPTION = """\
Score sessions against a reference: diarization error rate (DER; overlap scored, optimal
speaker mapping), speech detection error (VAD), floor-share error (largest gap between a
speaker's measured and true share of the floor, in percentage points) and, with --events,
interruption and backchannel precision/recall/F1 (same who -> whom within 1 s).
Needs pyannote.metrics: pip install 'facilitator[eval]'."""

EPILOG = """\
Totals: DER and VAD error pooled over files (sum of errors / sum of reference speech),
floor-share error averaged over files, event counts summed before P/R/F1.
Example: facilitator evaluate --ref corpus/conversations/conversations.rttm \\
           --events corpus/conversations/events.tsv sessions/open-2a sessions/open-3a"""


def _collar(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value < 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be >= 0 seconds: {text!r}")
    return value


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "evaluate",
        help="score sessions against reference annotations (DER, floor share, event F1)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--ref", required=True, metavar="REF.rttm",
                   help="reference RTTM: who really spoke when, for every file scored "
                        "(each session's uri must appear in it)")
    p.add_argument("--events", metavar="EVENTS.tsv",
                   help="reference interruptions and backchannels (tab-separated: conversation, "
                        "kind, time_s, who, whom); adds event precision/recall/F1 columns")
    p.add_argument("--collar", type=_collar, default=0.25, metavar="SECONDS",
                   help="no-score zone centred on each reference boundary, total width in seconds, "
                        "as pyannote.metrics defines it (default: 0.25, i.e. +/-0.125 s)")
    p.add_argument("--json", action="store_true",
                   help="print the full report (per file and totals, speaker mappings, per-speaker "
                        "recall) as JSON instead of a table")
    p.add_argument("session_dirs", nargs="+", metavar="SESSION_DIR",
                   help="session directories written by replay/live/recover (each needs "
                        "segments.rttm; session.json too when --events is given)")
    p.set_defaults(func=run)
    return p


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _events(score: dict | None) -> list[str]:
    if score is None:
        return ["-", "-", "-"]
    # precision with nothing detected / recall with nothing to find are vacuous: shown as "-"
    # (the JSON keeps the documented 1.0)
    precision = score["precision"] if score["tp"] + score["fp"] else None
    recall = score["recall"] if score["tp"] + score["fn"] else None
    return [_pct(precision), _pct(recall), _pct(score["f1"])]


def format_table(report) -> str:
    """The report as a fixed-width text table: one row per file, then the total row."""
    with_events = report.totals.get("interruption") is not None
    head = ["file", "DER%", "miss%", "FA%", "conf%", "VAD%", "share pts"]
    if with_events:
        head += ["intr P%", "R%", "F1%", "bc P%", "R%", "F1%"]
    rows = []
    for f in report.files:
        row = [f.uri, _pct(f.der), _pct(f.missed), _pct(f.false_alarm), _pct(f.confusion),
               _pct(f.vad_error), f"{f.share_error_pts:.1f}"]
        if with_events:
            row += _events(f.interruption) + _events(f.backchannel)
        rows.append(row)
    t = report.totals
    total = [f"total ({t['files']})", _pct(t["der"]), _pct(t["missed"]), _pct(t["false_alarm"]),
             _pct(t["confusion"]), _pct(t["vad_error"]), f"{t['share_error_pts']:.1f}"]
    if with_events:
        total += _events(t["interruption"]) + _events(t["backchannel"])
    widths = [max(len(r[i]) for r in [head, *rows, total]) for i in range(len(head))]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    rule = "-" * len(line(head))
    out = [line(head), rule, *(line(r) for r in rows), rule, line(total)]
    out.append(f"collar {report.collar_s:g} s; DER pooled over files, share error = mean over files"
               + ("; events pooled" if with_events else ""))
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    from facilitator import evaluate as ev

    report = ev.evaluate(args.ref, args.session_dirs, events_tsv=args.events, collar_s=args.collar)
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(format_table(report))
    return 0
