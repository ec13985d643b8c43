"""History in the terminal (table, sparklines, bars) and as a self-contained HTML page."""

from __future__ import annotations

from html import escape

from facilitator.history.trends import StoredSession, people_in
from facilitator.report.figures import (
    UNKNOWN,
    fmt_duration,
    fmt_index,
    fmt_percent,
    fmt_rate,
    name_key,
)

SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None], top: float = 1.0) -> str:
    """One character per value on a fixed 0…``top`` scale (a blank where there is no value)."""
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        else:
            frac = 0.0 if top <= 0 else min(1.0, max(0.0, v / top))
            out.append(SPARKS[min(len(SPARKS) - 1, int(frac * len(SPARKS)))])
    return "".join(out)


def bar(fraction: float, width: int = 20) -> str:
    """A horizontal bar with eighth-block resolution."""
    cells = max(0.0, min(1.0, fraction)) * width
    full = int(cells)
    part = " ▏▎▍▌▋▊▉"[int((cells - full) * 8)] if full < width else ""
    return ("█" * full + part.strip()).ljust(width, "·")


def _table(headings: list[str], rows: list[list[str]], left: int) -> list[str]:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headings)]
    fmt = lambda cells: "  ".join(c.ljust(w) if i < left else c.rjust(w)
                                  for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return [fmt(headings)] + [fmt(r) for r in rows]


def history_text(sessions: list[StoredSession], *, person: str | None = None, since: str | None = None) -> str:
    """The ``facilitator history`` listing: sessions, then trends per person."""
    if not sessions:
        who = f" with {person}" if person else ""
        when = f" since {since}" if since else ""
        return f"No stored sessions{who}{when}.\n"
    people = people_in(sessions)
    target = next((n for n in people if name_key(n) == name_key(person)), person) if person else None
    who = f" with {target}" if person else ""
    out = [f"History: {len(sessions)} session{'s' if len(sessions) != 1 else ''}{who}"
           f"{' since ' + since if since else ''}, {sessions[0].date} to {sessions[-1].date}", ""]
    if person:
        rows = []
        for s in sessions:
            p = s.people[target]
            rows.append([s.date, s.id, s.protocol.replace("_", "-"), fmt_duration(p["floor_s"]), fmt_percent(p["share"]),
                         str(p["turns"]), fmt_duration(p["longest_turn_s"]),
                         str(p["interruptions_made"]), str(p["interruptions_received"]), str(p["backchannels"]),
                         fmt_index(s.balance_index)])
        out += _table(["date", "session", "protocol", "floor", "share", "turns", "longest", "interrupted",
                       "was interr.", "backch.", "balance"], rows, left=3)
    else:
        rows = []
        for s in sessions:
            shares = " · ".join(f"{n} {fmt_percent(v)}" for n, v in sorted(s.shares.items(), key=lambda kv: -kv[1]))
            rows.append([s.date, s.id, s.protocol.replace("_", "-"), fmt_duration(s.duration_s),
                         fmt_index(s.balance_index), fmt_rate(s.interruptions_per_hour),
                         fmt_index(s.turn_balance), shares])
        out += _table(["date", "session", "protocol", "length", "balance", "interr./h", "turn bal.", "shares"],
                      rows, left=3)
    out += ["", "Trends, oldest → newest (share on a 0–100 % scale; latest value at the right)"]
    label_w = max([len(n) for n in people] + [len("interruptions/h")])
    chosen = [n for n in people if not person or name_key(n) == name_key(person)]
    for n in chosen:
        series = [s.shares.get(n) for s in sessions]
        last = next((v for v in reversed(series) if v is not None), 0.0)
        out.append(f"{n.ljust(label_w)}  {sparkline(series)}  {bar(last)} {fmt_percent(last)}")
    balance = [s.balance_index for s in sessions]
    out.append(f"{'balance index'.ljust(label_w)}  {sparkline(balance)}  "
               f"{bar(balance[-1] or 0.0)} {fmt_index(balance[-1])}")
    rates = [s.interruptions_per_hour for s in sessions]
    top = max([r for r in rates if r is not None] + [1.0])
    out.append(f"{'interruptions/h'.ljust(label_w)}  {sparkline(rates, top)}  "
               f"{bar((rates[-1] or 0.0) / top)} {fmt_rate(rates[-1])}")
    if any(name_key(n) == UNKNOWN for n in people):
        out.append("(“unknown” is speech the attributor could not assign to anyone.)")
    return "\n".join(out) + "\n"


def history_html(sessions: list[StoredSession], *, person: str | None = None, comparison: str = "") -> str:
    """A self-contained page: trend chart (inline SVG), the sessions table and the comparison."""
    from facilitator.report import charts
    from facilitator.report.html import CSS

    people = people_in(sessions)
    chart = charts.history_chart([s.as_dict() for s in sessions], people) if sessions else ""
    title = "facilitator history" + (f" — {person}" if person else "")
    rows = []
    for s in sessions:
        cells = [f"<td>{escape(s.date)}</td>", f'<td class="text">{escape(s.id)}</td>',
                 f'<td class="text">{escape(s.protocol)}</td>', f"<td>{fmt_duration(s.duration_s)}</td>",
                 f'<td data-key="balance_index" data-value="{s.balance_index}">{fmt_index(s.balance_index)}</td>',
                 f"<td>{fmt_rate(s.interruptions_per_hour)}</td>"]
        cells += [f'<td data-person="{escape(n, quote=True)}" data-value="{s.shares[n] if n in s.shares else ""}">'
                  f"{fmt_percent(s.shares[n]) if n in s.shares else '–'}</td>" for n in people]
        rows.append(f'<tr data-session="{escape(s.id, quote=True)}">' + "".join(cells) + "</tr>")
    text_th = '<th class="text">'
    heads = "".join(f"{text_th if h in ('session', 'protocol') else '<th>'}{escape(h)}</th>" for h in
                    ["date", "session", "protocol", "length", "balance", "interruptions/h"] + people)
    comparison_html = ""
    if comparison:
        items = [f"<li>{escape(line[2:])}</li>" if line.startswith("- ") else f"<p>{escape(line)}</p>"
                 for line in comparison.splitlines()]
        comparison_html = "<h2>What changed</h2>" + "".join(
            ("<ul>" + i + "</ul>") if i.startswith("<li>") else i for i in items).replace("</ul><ul>", "")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{len(sessions)} sessions' + (f", {sessions[0].date} to {sessions[-1].date}" if sessions else "")
        + "</p>",
        comparison_html,
        '<h2>Trends</h2><figure id="history-chart" role="img" aria-label="Share of the floor per person over time">'
        + chart + "<figcaption>Share of the floor per person per session, and interruptions per hour."
        "</figcaption></figure>" if sessions else "<p>No stored sessions.</p>",
        f'<h2>Sessions</h2><table id="history"><thead><tr>{heads}</tr></thead><tbody>{"".join(rows)}</tbody></table>',
        "<footer>Made by facilitator on this computer; nothing was sent anywhere.</footer>",
        "</body></html>", ""])
