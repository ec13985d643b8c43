"""Plain-text views: the terminal summary and ``report.md`` (same figures, same words)."""

from __future__ import annotations

from facilitator.report.figures import (
    SPEAKER_COLUMNS,
    TURN_COLUMNS,
    balance_line,
    fmt_duration,
    interruption_matrix,
    is_round_robin,
    overview_lines,
    plain_words_reading,
    speaker_rows,
    title,
    turn_rows,
)
from facilitator.report.load import Segment


def _table(headings: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    """Align columns: the first ``left`` columns left-aligned, the rest right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headings)]

    def line(cells):
        parts = [c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip()

    return [line(headings)] + [line(r) for r in rows]


def summary_table(session: dict) -> str:
    """The terminal summary printed at the end of a session (and shown by the app's report screen)."""
    out = [title(session), ""]
    rows = speaker_rows(session)
    out += _table(["person"] + [h for _, h, _ in SPEAKER_COLUMNS], [[r.name] + [c.text for c in r.cells] for r in rows])
    out += ["", balance_line(session), plain_words_reading(session)]
    out.append(" · ".join(f"{label} {value}" for label, value in overview_lines(session)))
    if is_round_robin(session):
        turns = turn_rows(session)
        out += ["", "Round-robin turns"]
        out += _table([h for _, h, _ in TURN_COLUMNS], [[c.text for c in r.cells] for r in turns], left=2)
    return "\n".join(out) + "\n"


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _md_table(headings: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    align = ["---" if i < left else "---:" for i in range(len(headings))]
    return [_md_row(headings), "|" + "|".join(align) + "|"] + [_md_row(r) for r in rows]


def text_timeline(session: dict, segments: list[Segment], width: int = 72) -> list[str]:
    """One row per person, one column per ``duration / width`` seconds: █ speaking most of the
    column, ▒ some of it; a last row marks interruptions (!) and backchannels (·)."""
    names = [str(s["name"]) for s in session.get("speakers", [])]
    for seg in segments:
        if seg.speaker not in names:
            names.append(seg.speaker)
    duration = float(session.get("duration_s") or max((s.end_s for s in segments), default=1.0)) or 1.0
    bin_s = duration / width
    label_w = max([len(n) for n in names] + [6])
    rows = []
    for name in names:
        busy = [0.0] * width
        for seg in segments:
            if seg.speaker != name:
                continue
            first, last = int(seg.start_s / bin_s), min(width - 1, int(seg.end_s / bin_s))
            for b in range(first, last + 1):
                lo, hi = b * bin_s, (b + 1) * bin_s
                busy[b] += max(0.0, min(hi, seg.end_s) - max(lo, seg.start_s))
        cells = "".join("█" if x >= 0.5 * bin_s else ("▒" if x > 0.1 * bin_s else " ") for x in busy)
        rows.append(f"{name.ljust(label_w)} |{cells}|")
    events = [" "] * width
    for ev in session.get("backchannels", []) or []:
        events[min(width - 1, int(float(ev["t_s"]) / bin_s))] = "·"
    for ev in session.get("interruptions", []) or []:
        events[min(width - 1, int(float(ev["t_s"]) / bin_s))] = "!"
    rows.append(f"{'events'.ljust(label_w)} |{''.join(events)}|")
    axis = [" "] * (width + 1)
    marks = 6
    for k in range(marks + 1):
        col = round(k * width / marks)
        label = fmt_duration(k * duration / marks)
        start = min(max(0, col - len(label) // 2), width + 1 - len(label))
        axis[start:start + len(label)] = list(label)
    rows.append(" " * (label_w + 1) + "".join(axis).rstrip())
    return rows


def markdown_report(session: dict, segments: list[Segment]) -> str:
    """``report.md``: everything report.html shows, as text."""
    out = [f"# {title(session)}", ""]
    out += [f"Source: `{session.get('source', '?')}` · attribution: {session.get('mode', '?')} · "
            f"protocol: {session.get('protocol', '?')}", ""]
    out += [f"**In plain words:** {plain_words_reading(session)}", "", f"**{balance_line(session)}**", ""]
    ov = overview_lines(session)
    out += _md_table([label for label, _ in ov], [[value for _, value in ov]], left=0)
    out += ["", "## Floor per person", ""]
    out += _md_table(["person"] + [h for _, h, _ in SPEAKER_COLUMNS],
                     [[r.name] + [c.text for c in r.cells] for r in speaker_rows(session)])
    out += ["", "## Who spoke when", "", "```text", *text_timeline(session, segments), "```", "",
            "█ speaking · ▒ some speech · ! interruption · · backchannel", ""]
    if is_round_robin(session):
        out += ["## Round-robin turns", ""]
        out += _md_table([h for _, h, _ in TURN_COLUMNS], [[c.text for c in r.cells] for r in turn_rows(session)],
                         left=2)
        out.append("")
    names, counts = interruption_matrix(session)
    out += ["## Interruptions (rows interrupted columns)", ""]
    out += _md_table(["who ↓ / whom →"] + names,
                     [[n] + ["–" if i == j else str(counts[i][j]) for j in range(len(names))]
                      for i, n in enumerate(names)])
    out.append("")
    ints = session.get("interruptions", []) or []
    if ints:
        out += _md_table(["time", "who → whom", "result"],
                         [[fmt_duration(e["t_s"]), f"{e['who']} → {e['whom']}",
                           "successful" if e.get("successful") else "attempted"] for e in ints], left=2)
        out.append("")
    bcs = session.get("backchannels", []) or []
    out += ["## Backchannels", ""]
    if bcs:
        out += _md_table(["time", "who → whom"], [[fmt_duration(e["t_s"]), f"{e['who']} → {e['whom']}"] for e in bcs],
                         left=2)
    else:
        out.append("None.")
    marks = session.get("markers", []) or []
    if marks:
        out += ["", "## Markers", ""]
        out += _md_table(["time", "note"], [[fmt_duration(m["t_s"]), str(m.get("note", ""))] for m in marks], left=2)
    out.append("")
    return "\n".join(out)
