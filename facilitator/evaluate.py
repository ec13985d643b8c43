"""Score sessions against reference annotations: DER, speech detection, floor share, event F1.

Pure functions over plain data, used by ``facilitator evaluate`` and by the benchmark scripts.
The definitions follow DESIGN.md ("How accuracy is measured"):

* **DER** — ``pyannote.metrics`` DiarizationErrorRate, overlapping speech scored
  (``skip_overlap=False``), optimal (Hungarian) one-to-one speaker mapping. Note that pyannote's
  ``collar`` is the *total* width of the no-score zone centred on each reference boundary, so
  ``collar_s=0.25`` forgives ±0.125 s around every reference segment start and end.
* **Floor-share error** — per speaker, share = that speaker's speech seconds (the union of their own
  segments; overlap counts for each speaker) ÷ the sum over speakers. After mapping the hypothesis
  speakers to reference speakers, the largest |share_hyp − share_ref| over all speakers, in points.
  No collar is applied.
* **Event F1** — a detected event matches a reference event of the same kind with the same
  who → whom (after mapping) within ±``tolerance_s``; each reference event matches at most once.

Segments are ``(start_s, end_s, speaker)`` tuples; events are dicts with ``kind``, ``t_s``, ``who``,
``whom``. ``pyannote.metrics`` (the ``eval`` extra) is imported only by the functions that need it.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from facilitator.errors import UserError

Segment = tuple[float, float, str]
Event = dict

EVENT_KINDS = ("interruption", "backchannel")
# RTTM record types that carry no speaker segment; skipped when reading.
_RTTM_OTHER_TYPES = {
    "SPKR-INFO", "LEXEME", "NON-LEX", "NON-SPEECH", "NOSCORE", "NO_RT_METADATA",
    "FILLER", "EDIT", "IP", "SU", "CB", "A/P", "SEGMENT",
}
_EVENTS_COLUMNS = ("conversation", "kind", "time_s", "who", "whom")


# ---------------------------------------------------------------------------------------------
# Reading inputs
# ---------------------------------------------------------------------------------------------

def _read_text(path: Path, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise UserError(f"{what} is a directory, expected a file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {what} {path}: {exc}") from None


def _number(text: str, path: Path, lineno: int, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{path}:{lineno}: {name} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise UserError(f"{path}:{lineno}: {name} {text!r} is not a finite number")
    return value


def read_rttm(path: str | Path) -> dict[str, list[Segment]]:
    """Read an RTTM file into ``{uri: [(start_s, end_s, speaker), ...]}`` (file order kept).

    Only ``SPEAKER`` records are segments; other standard RTTM record types are skipped, as are
    blank lines and ``#`` comments. Anything else raises :class:`UserError` naming the line.
    """
    path = Path(path)
    out: dict[str, list[Segment]] = {}
    for lineno, line in enumerate(_read_text(path, "RTTM file").splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if fields[0] in _RTTM_OTHER_TYPES:
            continue
        if fields[0] != "SPEAKER" or len(fields) < 8:
            raise UserError(
                f"{path}:{lineno}: not an RTTM speaker line "
                "(expected 'SPEAKER <uri> <channel> <start> <duration> <NA> <NA> <speaker> ...')"
            )
        start = _number(fields[3], path, lineno, "start")
        duration = _number(fields[4], path, lineno, "duration")
        if start < 0 or duration < 0:
            raise UserError(f"{path}:{lineno}: negative start or duration")
        out.setdefault(fields[1], []).append((start, start + duration, fields[7]))
    return out


def read_events_tsv(path: str | Path) -> dict[str, list[Event]]:
    """Read a reference events table (``conversation kind time_s who whom``, tab-separated, with
    a header) into ``{uri: [{"kind", "t_s", "who", "whom"}, ...]}``. ``turn_end`` rows have an
    empty ``whom``; it is read as ``""``."""
    path = Path(path)
    lines = _read_text(path, "events file").splitlines()
    if not lines or tuple(c.strip() for c in lines[0].split("\t")) != _EVENTS_COLUMNS:
        raise UserError(f"{path}:1: expected the header '{chr(9).join(_EVENTS_COLUMNS)}' (tab-separated)")
    out: dict[str, list[Event]] = {}
    for lineno, line in enumerate(lines[1:], 2):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) == 4:  # a trailing empty `whom` whose tab was stripped
            cols.append("")
        if len(cols) != 5 or not cols[0] or not cols[1]:
            raise UserError(f"{path}:{lineno}: expected 5 tab-separated columns {_EVENTS_COLUMNS}")
        uri, kind, t_text, who, whom = (c.strip() for c in cols)
        t_s = _number(t_text, path, lineno, "time_s")
        out.setdefault(uri, []).append({"kind": kind, "t_s": t_s, "who": who, "whom": whom})
    return out


@dataclass
class SessionResult:
    """What a session directory says, reduced to what is scored."""

    session_dir: Path
    uri: str
    segments: list[Segment]
    interruptions: list[Event] | None  # None when the directory has no session.json
    backchannels: list[Event] | None

    @property
    def events(self) -> list[Event] | None:
        """Interruptions and backchannels as one list of events (``kind`` set), or None."""
        if self.interruptions is None or self.backchannels is None:
            return None
        return list(self.interruptions) + list(self.backchannels)


def _session_events(data: dict, key: str, kind: str, path: Path) -> list[Event]:
    items = data.get(key, [])
    if not isinstance(items, list):
        raise UserError(f"{path}: '{key}' should be a list")
    events = []
    for i, item in enumerate(items):
        try:
            t_s = float(item["t_s"])
            who, whom = str(item["who"]), str(item["whom"])
        except (TypeError, KeyError, ValueError):
            raise UserError(f"{path}: {key}[{i}] needs numeric 't_s' and 'who', 'whom'") from None
        event = {"kind": kind, "t_s": t_s, "who": who, "whom": whom}
        if "successful" in item:
            event["successful"] = bool(item["successful"])
        events.append(event)
    return events


def load_session(session_dir: str | Path) -> SessionResult:
    """Read ``segments.rttm`` (required) and ``session.json`` (optional; without it the events are
    None) from a session directory. The uri is the first field of the RTTM lines; when the RTTM is
    empty (nothing detected) it falls back to ``source`` in session.json up to its first dot."""
    session_dir = Path(session_dir)
    if not session_dir.is_dir():
        raise UserError(f"session directory not found: {session_dir}")
    rttm_path = session_dir / "segments.rttm"
    if not rttm_path.is_file():
        raise UserError(f"{session_dir} has no segments.rttm (is it a session directory?)")
    by_uri = read_rttm(rttm_path)
    if len(by_uri) > 1:
        raise UserError(f"{rttm_path} mixes several files ({', '.join(sorted(by_uri))}); expected one")

    data = None
    json_path = session_dir / "session.json"
    if json_path.is_file():
        try:
            data = json.loads(_read_text(json_path, "session summary"))
        except json.JSONDecodeError as exc:
            raise UserError(f"{json_path} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
        if not isinstance(data, dict):
            raise UserError(f"{json_path} should hold a JSON object")

    if by_uri:
        uri, segments = next(iter(by_uri.items()))
    else:
        segments = []
        source = (data or {}).get("source")
        if not source:
            raise UserError(f"{rttm_path} is empty and no session.json names the source file")
        uri = Path(str(source)).name.split(".", 1)[0]

    interruptions = backchannels = None
    if data is not None:
        interruptions = _session_events(data, "interruptions", "interruption", json_path)
        backchannels = _session_events(data, "backchannels", "backchannel", json_path)
    return SessionResult(session_dir, uri, segments, interruptions, backchannels)


# ---------------------------------------------------------------------------------------------
# Interval helpers (no pyannote needed)
# ---------------------------------------------------------------------------------------------

def _union(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def _duration(intervals: Sequence[tuple[float, float]]) -> float:
    return sum(e - s for s, e in intervals)


def _intersection_duration(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> float:
    """Overlap of two sorted, disjoint interval lists."""
    i = j = 0
    total = 0.0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            total += hi - lo
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def _by_speaker(segments: Iterable[Segment]) -> dict[str, list[tuple[float, float]]]:
    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for s, e, who in segments:
        spans[str(who)].append((float(s), float(e)))
    return {who: _union(v) for who, v in spans.items()}


def _namer(mapping: Mapping[str, str] | None, ref_names: Iterable[str]):
    """Map a hypothesis name to a reference name. Unmapped names keep their own name — unless it
    collides with a reference name, in which case it is marked so it can never count as that
    reference speaker (the mapping is what decides who is who)."""
    if mapping is None:
        return lambda name: str(name)
    mapping = {str(k): str(v) for k, v in mapping.items()}
    ref_names = set(ref_names)

    def name_of(name) -> str:
        name = str(name)
        if name in mapping:
            return mapping[name]
        return f"{name} (unmapped)" if name in ref_names else name

    return name_of


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------

def _pyannote():
    try:
        from pyannote.core import Annotation, Segment as PSegment, Timeline
        from pyannote.metrics import detection, diarization
    except ImportError:
        raise UserError(
            "scoring needs pyannote.metrics: pip install 'facilitator[eval]'"
        ) from None
    return Annotation, PSegment, Timeline, diarization, detection


def _annotations(ref_segments, hyp_segments):
    Annotation, PSegment, Timeline, _, _ = _pyannote()
    anns = []
    for segments in (ref_segments, hyp_segments):
        ann = Annotation(uri="file")
        for k, (s, e, who) in enumerate(segments):
            if e > s:
                ann[PSegment(float(s), float(e)), k] = str(who)
        anns.append(ann)
    end = max([e for _, e, _ in list(ref_segments) + list(hyp_segments)] + [0.0])
    uem = Timeline([PSegment(0.0, end)], uri="file") if end > 0 else None
    return anns[0], anns[1], uem


def diarization_error(ref_segments: Sequence[Segment], hyp_segments: Sequence[Segment],
                      collar_s: float = 0.25) -> dict:
    """Diarization error rate of one file: pyannote's DiarizationErrorRate(collar=collar_s,
    skip_overlap=False). Returns ``der`` (fraction), the components ``missed``, ``false_alarm``,
    ``confusion``, ``total`` (seconds of scored reference speech; overlap counted per speaker) and
    ``mapping`` ({hypothesis speaker: reference speaker}, the optimal one-to-one mapping found on
    the scored regions; hypothesis speakers left out are unmapped)."""
    _, _, _, diarization, _ = _pyannote()
    ref, hyp, uem = _annotations(ref_segments, hyp_segments)
    if uem is None:
        return {"der": 0.0, "missed": 0.0, "false_alarm": 0.0, "confusion": 0.0, "total": 0.0,
                "mapping": {}}
    metric = diarization.DiarizationErrorRate(collar=collar_s, skip_overlap=False)
    detail = metric(ref, hyp, uem=uem, detailed=True)
    ref_u, hyp_u = metric.uemify(ref, hyp, uem=uem, collar=collar_s, skip_overlap=False)
    mapping = {str(h): str(r) for h, r in metric.optimal_mapping(ref_u, hyp_u).items()}
    return {
        "der": float(detail["diarization error rate"]),
        "missed": float(detail["missed detection"]),
        "false_alarm": float(detail["false alarm"]),
        "confusion": float(detail["confusion"]),
        "total": float(detail["total"]),
        "mapping": mapping,
    }


def detection_error(ref_segments: Sequence[Segment], hyp_segments: Sequence[Segment],
                    collar_s: float = 0.25) -> dict:
    """Speech/non-speech error of one file (speaker labels ignored): pyannote's
    DetectionErrorRate, DetectionPrecision and DetectionRecall with the same collar. Returns
    ``error`` (fraction), ``missed``, ``false_alarm``, ``total`` (seconds of reference speech,
    overlap counted once), ``precision``, ``recall``, and ``retrieved``/``relevant``/
    ``relevant_retrieved`` (seconds, so files can be pooled)."""
    _, _, _, _, detection = _pyannote()
    ref, hyp, uem = _annotations(ref_segments, hyp_segments)
    if uem is None:
        return {"error": 0.0, "missed": 0.0, "false_alarm": 0.0, "total": 0.0, "precision": 1.0,
                "recall": 1.0, "retrieved": 0.0, "relevant": 0.0, "relevant_retrieved": 0.0}
    err = detection.DetectionErrorRate(collar=collar_s, skip_overlap=False)(ref, hyp, uem=uem, detailed=True)
    prec = detection.DetectionPrecision(collar=collar_s, skip_overlap=False)(ref, hyp, uem=uem, detailed=True)
    rec = detection.DetectionRecall(collar=collar_s, skip_overlap=False)(ref, hyp, uem=uem, detailed=True)
    return {
        "error": float(err["detection error rate"]),
        "missed": float(err["miss"]),
        "false_alarm": float(err["false alarm"]),
        "total": float(err["total"]),
        "precision": float(prec["detection precision"]),
        "recall": float(rec["detection recall"]),
        "retrieved": float(prec["retrieved"]),
        "relevant": float(rec["relevant"]),
        "relevant_retrieved": float(rec["relevant retrieved"]),
    }


def floor_shares(segments: Sequence[Segment]) -> dict[str, float]:
    """Each speaker's share of the floor: their speech seconds (union of their own segments;
    overlap counts for each speaker) ÷ the sum over speakers. Empty when nobody spoke."""
    seconds = {who: _duration(spans) for who, spans in _by_speaker(segments).items()}
    total = sum(seconds.values())
    return {who: s / total for who, s in seconds.items()} if total > 0 else {}


def floor_share_error(ref_segments: Sequence[Segment], hyp_segments: Sequence[Segment],
                      mapping: Mapping[str, str] | None) -> float:
    """The largest |share_hyp − share_ref| over all speakers, in percentage points, after renaming
    hypothesis speakers with ``mapping`` ({hyp: ref}; None = same names). Hypothesis speakers not in
    the mapping (``unknown``, extra clusters) keep a name of their own, so their whole share counts
    as error."""
    name_of = _namer(mapping, {str(w) for _, _, w in ref_segments})
    ref = floor_shares(ref_segments)
    hyp = floor_shares([(s, e, name_of(w)) for s, e, w in hyp_segments])
    speakers = set(ref) | set(hyp)
    if not speakers:
        return 0.0
    return 100.0 * max(abs(hyp.get(w, 0.0) - ref.get(w, 0.0)) for w in speakers)


def speaker_recall(ref_segments: Sequence[Segment], hyp_segments: Sequence[Segment],
                   mapping: Mapping[str, str] | None) -> dict[str, float]:
    """For each reference speaker, the fraction of their reference speech (seconds, no collar) that
    the hypothesis credits to them, after renaming hypothesis speakers with ``mapping``. A speaker
    with no reference speech is left out."""
    name_of = _namer(mapping, {str(w) for _, _, w in ref_segments})
    ref = _by_speaker(ref_segments)
    hyp = _by_speaker([(s, e, name_of(w)) for s, e, w in hyp_segments])
    out = {}
    for who, spans in ref.items():
        total = _duration(spans)
        if total > 0:
            out[who] = _intersection_duration(spans, hyp.get(who, [])) / total
    return out


def _prf(tp: int, fp: int, fn: int) -> dict:
    """Precision, recall, F1 with the vacuous cases defined: no detections → precision 1.0, no
    reference events → recall 1.0, and F1 = 2tp / (2tp + fp + fn), which is 1.0 when there is
    nothing to find and nothing was found."""
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def event_f1(ref_events: Sequence[Event], hyp_events: Sequence[Event], kind: str,
             mapping: Mapping[str, str] | None, tolerance_s: float = 1.0) -> dict:
    """Precision, recall and F1 of detected events of one ``kind``.

    A detected event matches a reference event of the same kind and the same who → whom (hypothesis
    names renamed with ``mapping``; unmapped names never match) with |Δt| ≤ ``tolerance_s``; each
    event is matched at most once. The matching is an optimal assignment — it finds the largest
    possible number of matches: within each (who, whom) pair, detections are taken in time order and
    each takes the earliest unmatched reference event in its window (optimal for equal-width windows
    on a line). Vacuous cases: see :func:`_prf` (zero references and zero detections → F1 1.0).
    Returns ``precision``, ``recall``, ``f1``, ``tp``, ``fp``, ``fn``.
    """
    refs = [e for e in ref_events if e["kind"] == kind]
    hyps = [e for e in hyp_events if e["kind"] == kind]
    name_of = _namer(mapping, {str(e[k]) for e in ref_events for k in ("who", "whom") if e.get(k)})

    ref_groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for e in refs:
        ref_groups[(str(e["who"]), str(e["whom"]))].append(float(e["t_s"]))
    hyp_groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for e in hyps:
        hyp_groups[(name_of(e["who"]), name_of(e["whom"]))].append(float(e["t_s"]))

    tp = 0
    eps = 1e-9  # so that an event exactly `tolerance_s` away still matches despite float rounding
    for pair, hyp_times in hyp_groups.items():
        ref_times = sorted(ref_groups.get(pair, []))
        used = [False] * len(ref_times)
        for t in sorted(hyp_times):
            for k, r in enumerate(ref_times):
                if used[k] or r < t - tolerance_s - eps:
                    continue
                if r > t + tolerance_s + eps:
                    break
                used[k] = True
                tp += 1
                break
    return _prf(tp, len(hyps) - tp, len(refs) - tp)


# ---------------------------------------------------------------------------------------------
# Whole evaluation
# ---------------------------------------------------------------------------------------------

@dataclass
class FileScore:
    """One row of the report. Rates are fractions of the scored reference speech."""

    uri: str
    session_dir: str
    der: float
    missed: float
    false_alarm: float
    confusion: float
    total_s: float
    missed_s: float
    false_alarm_s: float
    confusion_s: float
    vad_error: float
    vad_precision: float
    vad_recall: float
    share_error_pts: float
    mapping: dict[str, str]
    speaker_recall: dict[str, float]
    interruption: dict | None = None  # event_f1 result, None without reference events
    backchannel: dict | None = None


@dataclass
class Report:
    files: list[FileScore]
    totals: dict = field(default_factory=dict)
    collar_s: float = 0.25

    def to_dict(self) -> dict:
        return {"collar_s": self.collar_s, "files": [asdict(f) for f in self.files],
                "totals": self.totals}


def evaluate(ref_rttm: str | Path, session_dirs: Sequence[str | Path],
             events_tsv: str | Path | None = None, collar_s: float = 0.25) -> Report:
    """Score each session directory against the reference RTTM (and events, when given).

    Totals: DER pooled over files (sum of errors ÷ sum of scored reference speech, like pyannote's
    ``abs(metric)``), VAD error pooled the same way, mean floor-share error over files, event
    precision/recall/F1 pooled (tp, fp, fn summed)."""
    if not session_dirs:
        raise UserError("no session directories to score")
    if collar_s < 0 or not math.isfinite(collar_s):
        raise UserError(f"collar must be a non-negative number of seconds, not {collar_s}")
    reference = read_rttm(ref_rttm)
    ref_events = read_events_tsv(events_tsv) if events_tsv is not None else None

    sessions = [load_session(d) for d in session_dirs]
    seen: dict[str, Path] = {}
    for s in sessions:
        if s.uri not in reference:
            raise UserError(f"{s.session_dir}: file '{s.uri}' is not in the reference {ref_rttm}")
        if s.uri in seen:
            raise UserError(f"file '{s.uri}' is scored twice ({seen[s.uri]} and {s.session_dir})")
        seen[s.uri] = s.session_dir
        if ref_events is not None and s.events is None:
            raise UserError(f"{s.session_dir} has no session.json, needed to score events")

    rows: list[FileScore] = []
    vads: list[dict] = []  # detection components per file, for pooling
    for s in sessions:
        ref = reference[s.uri]
        d = diarization_error(ref, s.segments, collar_s)
        v = detection_error(ref, s.segments, collar_s)
        total = d["total"]

        def rate(x: float) -> float:
            return x / total if total else (0.0 if x == 0 else 1.0)

        row = FileScore(
            uri=s.uri, session_dir=str(s.session_dir), der=d["der"],
            missed=rate(d["missed"]), false_alarm=rate(d["false_alarm"]),
            confusion=rate(d["confusion"]), total_s=total, missed_s=d["missed"],
            false_alarm_s=d["false_alarm"], confusion_s=d["confusion"],
            vad_error=v["error"], vad_precision=v["precision"], vad_recall=v["recall"],
            share_error_pts=floor_share_error(ref, s.segments, d["mapping"]),
            mapping=d["mapping"], speaker_recall=speaker_recall(ref, s.segments, d["mapping"]),
        )
        vads.append(v)
        if ref_events is not None:
            r_ev = ref_events.get(s.uri, [])
            row.interruption = event_f1(r_ev, s.events, "interruption", d["mapping"])
            row.backchannel = event_f1(r_ev, s.events, "backchannel", d["mapping"])
        rows.append(row)

    total = sum(r.total_s for r in rows)
    errors = sum(r.missed_s + r.false_alarm_s + r.confusion_s for r in rows)
    vad_total = sum(v["total"] for v in vads)
    vad_errors = sum(v["missed"] + v["false_alarm"] for v in vads)
    retrieved = sum(v["retrieved"] for v in vads)
    relevant = sum(v["relevant"] for v in vads)
    rel_ret = sum(v["relevant_retrieved"] for v in vads)
    totals = {
        "files": len(rows),
        "der": errors / total if total else (0.0 if errors == 0 else 1.0),
        "missed": sum(r.missed_s for r in rows) / total if total else 0.0,
        "false_alarm": sum(r.false_alarm_s for r in rows) / total if total else 0.0,
        "confusion": sum(r.confusion_s for r in rows) / total if total else 0.0,
        "total_s": total,
        "vad_error": vad_errors / vad_total if vad_total else (0.0 if vad_errors == 0 else 1.0),
        "vad_precision": rel_ret / retrieved if retrieved else 1.0,
        "vad_recall": rel_ret / relevant if relevant else 1.0,
        "share_error_pts": sum(r.share_error_pts for r in rows) / len(rows),
        "share_error_pts_max": max(r.share_error_pts for r in rows),
        "interruption": None,
        "backchannel": None,
    }
    if ref_events is not None:
        for kind in EVENT_KINDS:
            scores = [getattr(r, kind) for r in rows]
            totals[kind] = _prf(sum(x["tp"] for x in scores), sum(x["fp"] for x in scores),
                                sum(x["fn"] for x in scores))
    return Report(rows, totals, collar_s)
