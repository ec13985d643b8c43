"""``report.html``: one self-contained page (inline CSS and SVG, no scripts, no external resources).

Every figure sits in a table cell carrying its raw value (``data-key``/``data-value``, the exact
JSON value from session.json) next to the text a person reads, so tests can parse the page back.
"""

from __future__ import annotations

import json
from html import escape

from facilitator.report import charts
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

CSS = """
:root { color-scheme: light; --ink: #1d1d1f; --muted: #5f6368; --rule: #d9d9de; --alert: #c0392b; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--ink);
       max-width: 1100px; margin: 2rem auto; padding: 0 1.2rem; background: #fff; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid var(--rule); padding-bottom: .2rem; }
.meta { color: var(--muted); margin-top: 0; }
.reading { font-size: 1.15rem; background: #f4f6fa; border-left: 4px solid #0072B2; padding: .7rem 1rem; }
.balance { font-weight: 600; }
table { border-collapse: collapse; margin: .6rem 0; }
th, td { padding: .3rem .7rem; border-bottom: 1px solid var(--rule); text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { font-weight: 600; color: var(--muted); font-size: .85rem; }
td.self { color: #bbb; }
td.text, th.text { text-align: left; }
td.hot { color: var(--alert); font-weight: 600; }
figure { margin: .5rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: .85rem; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-right: .4em; vertical-align: -1px; }
details summary { cursor: pointer; color: var(--muted); }
footer { color: var(--muted); font-size: .8rem; margin-top: 3rem; }
@media print { body { margin: 0; } .reading { background: none; } }
"""


def _v(value) -> str:
    """The exact JSON spelling of a value, for a data attribute."""
    return escape(json.dumps(value, ensure_ascii=False), quote=True)


def _cell(key: str, value, text: str, tag: str = "td", cls: str = "") -> str:
    cls = cls or ("text" if isinstance(value, str) else "")
    klass = f' class="{cls}"' if cls else ""
    return f'<{tag} data-key="{escape(key)}" data-value="{_v(value)}"{klass}>{escape(text)}</{tag}>'


def html_report(session: dict, segments: list[Segment]) -> str:
    names = [str(s["name"]) for s in session.get("speakers", [])]
    col = charts.colours(names)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<meta name=\"referrer\" content=\"no-referrer\">",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
        f"<title>{escape(title(session))}</title>",
        f"<style>{CSS}</style></head><body>",
        f'<h1 id="title" data-session-id="{escape(str(session.get("id", "")), quote=True)}">{escape(title(session))}</h1>',
        f'<p class="meta">Source <code>{escape(str(session.get("source", "?")))}</code> · attribution '
        f'{escape(str(session.get("mode", "?")))} · protocol {escape(str(session.get("protocol", "?")))}</p>',
        f'<p class="reading" id="reading">{escape(plain_words_reading(session))}</p>',
        f'<p class="balance" id="balance" data-value="{_v(session.get("balance_index"))}">'
        f"{escape(balance_line(session))}</p>",
    ]
    # overview: length, speech, overlap, silence, longest monologue
    keys = {"length": "duration_s", "speech": "speech_s", "overlap": "overlap_s", "silence": "silence_s",
            "longest monologue": "longest_monologue"}
    parts.append('<table id="overview"><thead><tr>')
    parts += [f"<th>{escape(label)}</th>" for label, _ in overview_lines(session)]
    parts.append("</tr></thead><tbody><tr>")
    parts += [_cell(keys[label], session.get(keys[label]), value) for label, value in overview_lines(session)]
    parts.append("</tr></tbody></table>")

    parts.append("<h2>Floor per person</h2>")
    parts.append('<table id="speakers"><thead><tr><th>person</th>')
    parts += [f"<th>{escape(h)}</th>" for _, h, _ in SPEAKER_COLUMNS]
    parts.append("</tr></thead><tbody>")
    for row in speaker_rows(session):
        parts.append(f'<tr data-name="{escape(row.name, quote=True)}"><td>'
                     f'<span class="swatch" style="background:{col.get(row.name, "#999")}"></span>'
                     f"{escape(row.name)}</td>")
        parts += [_cell(c.key, c.value, c.text) for c in row.cells]
        parts.append("</tr>")
    parts.append("</tbody></table>")
    parts.append('<figure id="share-chart" role="img" aria-label="Share of the floor per person">')
    parts.append(charts.share_chart(session))
    parts.append("<figcaption>Share of the floor per person; the dashed line is an equal share.</figcaption></figure>")

    parts.append("<h2>Who spoke when</h2>")
    parts.append('<figure id="timeline-chart" role="img" aria-label="Timeline of who spoke when">')
    parts.append(charts.timeline_chart(session, segments))
    parts.append("<figcaption>Each bar is speech. Red arrows run from the interrupter to the person interrupted "
                 "(solid: took the floor, dashed: attempted); ▼ marks a backchannel.</figcaption></figure>")

    if is_round_robin(session):
        parts.append("<h2>Round-robin turns</h2>")
        parts.append('<table id="turns"><thead><tr>')
        parts += [f"<th>{escape(h)}</th>" for _, h, _ in TURN_COLUMNS]
        parts.append("</tr></thead><tbody>")
        for row in turn_rows(session):
            parts.append("<tr>" + "".join(_cell(c.key, c.value, c.text) for c in row.cells) + "</tr>")
        parts.append("</tbody></table>")

    names_m, counts = interruption_matrix(session)
    parts.append("<h2>Interruptions</h2>")
    parts.append("<p>Rows interrupted columns.</p>")
    parts.append('<table id="interruption-matrix"><thead><tr><th>who ↓ / whom →</th>')
    parts += [f"<th>{escape(n)}</th>" for n in names_m]
    parts.append("</tr></thead><tbody>")
    for i, who in enumerate(names_m):
        parts.append(f"<tr><th>{escape(who)}</th>")
        for j, whom in enumerate(names_m):
            if i == j:
                parts.append('<td class="self">–</td>')
            else:
                n = counts[i][j]
                hot = ' class="hot"' if n else ""
                parts.append(f'<td data-who="{escape(who, quote=True)}" data-whom="{escape(whom, quote=True)}" '
                             f'data-value="{n}"{hot}>{n}</td>')
        parts.append("</tr>")
    parts.append("</tbody></table>")
    ints = session.get("interruptions", []) or []
    if ints:
        parts.append(f"<details><summary>All {len(ints)} interruptions</summary>"
                     '<table id="interruptions"><thead><tr><th>time</th><th>who → whom</th><th>result</th></tr>'
                     "</thead><tbody>")
        for e in ints:
            parts.append(f"<tr><td>{fmt_duration(e['t_s'])}</td><td>{escape(str(e['who']))} → "
                         f"{escape(str(e['whom']))}</td><td>{'successful' if e.get('successful') else 'attempted'}"
                         "</td></tr>")
        parts.append("</tbody></table></details>")
    bcs = session.get("backchannels", []) or []
    parts.append("<h2>Backchannels</h2>")
    if bcs:
        parts.append(f"<details><summary>All {len(bcs)} backchannels</summary>"
                     '<table id="backchannels"><thead><tr><th>time</th><th>who → whom</th></tr></thead><tbody>')
        for e in bcs:
            parts.append(f"<tr><td>{fmt_duration(e['t_s'])}</td><td>{escape(str(e['who']))} → "
                         f"{escape(str(e['whom']))}</td></tr>")
        parts.append("</tbody></table></details>")
    else:
        parts.append("<p>None.</p>")
    marks = session.get("markers", []) or []
    if marks:
        parts.append('<h2>Markers</h2><table id="markers"><tbody>')
        parts += [f"<tr><td>{fmt_duration(m['t_s'])}</td><td>{escape(str(m.get('note', '')))}</td></tr>" for m in marks]
        parts.append("</tbody></table>")
    parts.append("<footer>Made by facilitator on this computer; nothing was sent anywhere. Floor time counts "
                 "overlapping speech for each speaker; share = a person's floor time ÷ everyone's.</footer>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
