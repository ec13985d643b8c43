"""Charts as inline SVG text, drawn with matplotlib's object API (no pyplot, no global backend).

Output is deterministic (fixed ``svg.hashsalt``, no date) and self-contained: the XML prologue,
DOCTYPE, RDF metadata and namespace URLs are stripped so the HTML page references nothing outside.
"""

from __future__ import annotations

import io
import re

from facilitator.report.figures import UNKNOWN, equal_share, fmt_duration, fmt_percent, name_key
from facilitator.report.load import Segment

# Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
GREY = "#9a9a9a"
ALERT = "#C0392B"


def colours(names: list[str]) -> dict[str, str]:
    out, i = {}, 0
    for name in names:
        if name_key(name) == UNKNOWN:
            out[name] = GREY
        else:
            out[name] = PALETTE[i % len(PALETTE)]
            i += 1
    return out


def _svg(fig, salt: str) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"facilitator-{salt}", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buf.getvalue()
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    return text.strip()


def _figure(width_in: float, height_in: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=96)
    fig.patch.set_alpha(0)
    return fig


def _mmss_axis(ax) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=12, steps=[1, 2, 3, 5, 6, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: fmt_duration(x)))


def share_chart(session: dict) -> str:
    """Horizontal bars: each person's share of the floor, with the equal share marked."""
    speakers = session.get("speakers", [])
    names = [str(s["name"]) for s in speakers]
    col = colours(names)
    fig = _figure(7.5, 0.55 * max(1, len(names)) + 0.9)
    ax = fig.add_subplot()
    ys = list(range(len(names)))[::-1]
    shares = [100.0 * float(s.get("share") or 0.0) for s in speakers]
    ax.barh(ys, shares, color=[col[n] for n in names], height=0.6)
    for y, s, sp in zip(ys, shares, speakers):
        ax.text(min(s, 100) + 1.0, y, f"{fmt_percent(sp.get('share'))} · {fmt_duration(sp.get('floor_s'))}",
                va="center", fontsize=10,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5, "alpha": 0.85})
    eq = equal_share(session)
    if eq is not None:
        ax.axvline(100 * eq, color="#333333", linestyle="--", linewidth=1)
        ax.text(100 * eq, len(names) - 0.45, f"equal share {fmt_percent(eq)}", ha="center", fontsize=9,
                color="#333333")
    ax.set_yticks(ys, names)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(names) - 0.2)
    ax.set_xlabel("share of the floor (%)")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _svg(fig, "share")


def timeline_chart(session: dict, segments: list[Segment]) -> str:
    """Who spoke when: one lane per person; interruptions as arrows who → whom (solid: successful,
    dashed: attempted); backchannels as ticks; round-robin turn starts as dotted lines."""
    from matplotlib.lines import Line2D

    names = [str(s["name"]) for s in session.get("speakers", [])]
    for seg in segments:
        if seg.speaker not in names:
            names.append(seg.speaker)
    col = colours(names)
    lane = {n: len(names) - 1 - i for i, n in enumerate(names)}
    duration = float(session.get("duration_s") or max((s.end_s for s in segments), default=1.0))
    fig = _figure(11.0, 0.62 * max(1, len(names)) + 1.5)
    ax = fig.add_subplot()
    # a long session has more segments than the chart has points: merge what would touch anyway,
    # so drawing (and memory) stays the same size whatever the session's length
    min_gap_s = max(duration, 1.0) / 2000.0
    by_speaker: dict[str, list[tuple[float, float]]] = {}
    for seg in sorted(segments, key=lambda x: (x.speaker, x.start_s)):
        spans = by_speaker.setdefault(seg.speaker, [])
        if spans and seg.start_s - (spans[-1][0] + spans[-1][1]) < min_gap_s:
            start, _ = spans[-1]
            spans[-1] = (start, max(spans[-1][0] + spans[-1][1], seg.end_s) - start)
        else:
            spans.append((seg.start_s, seg.duration_s))
    for name, spans in by_speaker.items():
        ax.broken_barh(spans, (lane[name] - 0.3, 0.6), facecolors=col[name], linewidth=0)
    for turn in session.get("turns", []) or []:
        x = float(turn.get("start_s", 0.0))
        ax.axvline(x, color="#555555", linestyle=":", linewidth=1)
        if len(session["turns"]) <= 40:
            ax.text(x, len(names) - 0.35, f" turn {int(turn.get('index', 0)) + 1}: {turn.get('holder')}",
                    fontsize=8, va="bottom", color="#333333")
    ticks = [(ev["t_s"], lane[str(ev.get("who"))] + 0.42) for ev in session.get("backchannels", []) or []
             if str(ev.get("who")) in lane]
    if 0 < len(ticks) <= 300:
        ax.plot(*zip(*ticks), marker="v", markersize=5, color="#444444", linestyle="none")
    elif ticks:  # many: short ticks in one collection instead of a marker each
        xs, ys = zip(*ticks)
        ax.vlines(xs, [y - 0.08 for y in ys], [y + 0.08 for y in ys], colors="#444444", linewidth=0.6)
    interruptions = [ev for ev in session.get("interruptions", []) or []
                     if str(ev.get("who")) in lane and str(ev.get("whom")) in lane]
    for ev in interruptions if len(interruptions) <= 150 else []:
        who, whom = str(ev.get("who")), str(ev.get("whom"))
        style = "-" if ev.get("successful") else "--"
        ax.annotate("", xy=(ev["t_s"], lane[whom]), xytext=(ev["t_s"], lane[who]),
                    arrowprops={"arrowstyle": "-|>", "color": ALERT, "linestyle": style, "linewidth": 1.4,
                                "shrinkA": 0, "shrinkB": 4})
    if len(interruptions) > 150:  # too many arrows to read (or draw): one line each, in one collection
        for successful, style in ((True, "-"), (False, "--")):
            group = [ev for ev in interruptions if bool(ev.get("successful")) == successful]
            if group:
                ax.vlines([ev["t_s"] for ev in group], [lane[str(ev["who"])] for ev in group],
                          [lane[str(ev["whom"])] for ev in group], colors=ALERT, linestyles=style,
                          linewidth=1.0)
    if 0 < len(interruptions) <= 150:
        ax.plot([ev["t_s"] for ev in interruptions], [lane[str(ev["who"])] for ev in interruptions],
                marker="o", markersize=4, color=ALERT, linestyle="none")
    marks = [m["t_s"] for m in session.get("markers", []) or []]
    if marks:
        ax.plot(marks, [-0.75] * len(marks), marker="^", markersize=6, color="#333333", linestyle="none")
    ax.set_yticks([lane[n] for n in names], names)
    ax.set_xlim(0, max(duration, 1.0))
    ax.set_ylim(-1.0, len(names) - 0.05 + (0.35 if session.get("turns") else 0))
    _mmss_axis(ax)
    ax.set_xlabel("time (m:ss)")
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles = [
        Line2D([], [], color=ALERT, linewidth=1.4, label="interruption, successful (who → whom)"),
        Line2D([], [], color=ALERT, linewidth=1.4, linestyle="--", label="interruption, attempted"),
        Line2D([], [], color="#444444", marker="v", linestyle="none", label="backchannel"),
        Line2D([], [], color="#333333", marker="^", linestyle="none", label="marker"),
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=4, frameon=False,
              fontsize=9)
    return _svg(fig, "timeline")


def history_chart(sessions: list[dict], people: list[str]) -> str:
    """Share of the floor per person across sessions, and interruptions per hour below it."""
    fig = _figure(10.0, 5.2)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    xs = list(range(len(sessions)))
    col = colours(people)
    for person in people:
        pts = [(x, 100 * s["shares"][person]) for x, s in zip(xs, sessions) if person in s["shares"]]
        if pts:
            top.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color=col[person], label=person)
    top.set_ylabel("share of the floor (%)")
    top.set_ylim(0, 100)
    top.legend(frameon=False, fontsize=9, ncol=min(4, max(1, len(people))))
    top.grid(axis="y", color="#e5e5e5")
    bottom.bar(xs, [s["interruptions_per_hour"] or 0.0 for s in sessions], color=ALERT, width=0.6)
    bottom.set_ylabel("interruptions / h")
    bottom.set_xticks(xs, [s["date"] for s in sessions], rotation=45, ha="right", fontsize=8)
    for ax in (top, bottom):
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return _svg(fig, "history")
