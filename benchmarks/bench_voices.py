#!/usr/bin/env python3
"""Measure the one-shared-microphone attributors on ../shared/corpus and print a table per bar.

voices mode enrolls ONLY from conversations/enrollment.tsv. Runs twice: without a background model
(the default install: the UBM is fitted to the enrolled profiles) and with one built from half of
corpus/background (the other half is kept for the "unknown" test). Usage:

    python benchmarks/bench_voices.py [--quick] [--no-auto] [--ablation]
"""

from __future__ import annotations

import argparse
import collections
import csv
import glob
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"

from facilitator import evaluate as E  # noqa: E402
from facilitator.attribution import UNKNOWN  # noqa: E402
from facilitator.pipeline import Pipeline  # noqa: E402
from facilitator.settings import settings_from  # noqa: E402
from facilitator.sources import ArraySource, FileSource  # noqa: E402
from facilitator.voices import make_attributor  # noqa: E402
from facilitator.voices import profile as P  # noqa: E402
from facilitator.voices.attributor import VoiceSettings  # noqa: E402


def corpus():
    conv = CORPUS / "conversations"
    spec = {s["id"]: s for s in json.loads((conv / "spec.json").read_text())}
    ref = E.read_rttm(conv / "conversations.rttm")
    events = E.read_events_tsv(conv / "events.tsv")
    sex = {r["speaker"]: r["sex"] for r in csv.DictReader(open(CORPUS / "voices" / "speakers.tsv"), delimiter="\t")}
    enroll = collections.defaultdict(list)
    for r in csv.DictReader(open(conv / "enrollment.tsv"), delimiter="\t"):
        enroll[r["speaker"]].append(P.read_audio(CORPUS / "voices" / r["utterance"]))
    return spec, ref, events, sex, enroll


def settings_for(sp):
    rr = sp["protocol"] == "round-robin"
    return settings_from(protocol="round-robin" if rr else "open", turn_s=float(sp.get("turn_s", 300)) if rr else 300.0)


def run_one(source, attributor, settings):
    t0 = time.process_time()
    res = Pipeline(source, attributor, settings, mode="voices").run()
    cpu = time.process_time() - t0
    return res, cpu


def score(conv, res, ref, events):
    hyp = res.ledger.closed_segments(res.duration_s)
    d = E.diarization_error(ref[conv], hyp)
    m = d["mapping"]
    summ = res.summary()
    hev = [dict(kind="interruption", **e) for e in summ["interruptions"]] + \
          [dict(kind="backchannel", **e) for e in summ["backchannels"]]
    unk = sum(b - a for a, b, w in hyp if w == UNKNOWN)
    return {
        "der": d["der"], "total": d["total"], "missed": d["missed"], "fa": d["false_alarm"], "conf": d["confusion"],
        "share": E.floor_share_error(ref[conv], hyp, m), "recall": E.speaker_recall(ref[conv], hyp, m),
        "int": E.event_f1(events.get(conv, []), hev, "interruption", m),
        "bc": E.event_f1(events.get(conv, []), hev, "backchannel", m),
        "unknown_s": unk, "speech_s": sum(b - a for a, b, w in ref[conv]),
        "shares_err": _per_speaker_share_err(ref[conv], hyp, m),
    }


def _per_speaker_share_err(ref, hyp, mapping):
    r = E.floor_shares(ref)
    h = E.floor_shares([(a, b, mapping.get(w, w)) for a, b, w in hyp])
    return {w: 100 * abs(h.get(w, 0) - r[w]) for w in r}


def f1(rows, key):
    tp = sum(r[key]["tp"] for r in rows)
    fp = sum(r[key]["fp"] for r in rows)
    fn = sum(r[key]["fn"] for r in rows)
    return 2 * tp / max(1, 2 * tp + fp + fn)


def voices_table(label, convs, spec, ref, events, sex, profiles, background, vs=None, ubm_note=""):
    rows, audio_s, cpu_s = [], 0.0, 0.0
    print(f"\n## voices mode — {label}")
    print(f"{'file':<9} {'DER%':>6} {'miss':>5} {'FA':>5} {'conf':>5} {'share':>6} {'int F1':>7} {'bc F1':>6} {'unk%':>5}  recall per speaker")
    for conv in convs:
        sp = spec[conv]
        settings = settings_for(sp)
        att = make_attributor("voices", sp["speakers"], profiles, settings, background=background, voice_settings=vs)
        res, cpu = run_one(FileSource(CORPUS / "conversations" / f"{conv}.flac", mono=True), att, settings)
        audio_s += res.duration_s
        cpu_s += cpu
        s = score(conv, res, ref, events)
        rows.append(s)
        t = s["total"]
        print(f"{conv:<9} {100 * s['der']:6.1f} {100 * s['missed'] / t:5.1f} {100 * s['fa'] / t:5.1f} {100 * s['conf'] / t:5.1f} "
              f"{s['share']:6.2f} {s['int']['f1']:7.2f} {s['bc']['f1']:6.2f} {100 * s['unknown_s'] / s['speech_s']:5.1f}  "
              + " ".join(f"{k}:{100 * v:.1f}" for k, v in s["recall"].items()))
    der = sum(r["der"] * r["total"] for r in rows) / sum(r["total"] for r in rows)
    share = float(np.mean([r["share"] for r in rows]))
    unk = sum(r["unknown_s"] for r in rows) / sum(r["speech_s"] for r in rows)
    by_sex = collections.defaultdict(list)
    for r in rows:
        for w, e in r["shares_err"].items():
            by_sex[sex[w]].append(e)
    print(f"{'ALL':<9} {100 * der:6.1f} {'':>5} {'':>5} {'':>5} {share:6.2f} {f1(rows, 'int'):7.2f} {f1(rows, 'bc'):6.2f} {100 * unk:5.1f}")
    q = next((r for c, r in zip(convs, rows) if c == "rr-2q"), None)
    out = {"der": der, "share": share, "int": f1(rows, "int"), "bc": f1(rows, "bc"), "unknown_frac": unk,
           "speed": audio_s / max(cpu_s, 1e-9),
           "sex": {k: float(np.mean(v)) for k, v in by_sex.items()}}
    if q:
        out["rr2q_recall"] = q["recall"]
    print(f"per-speaker share error by sex: " + ", ".join(f"{k} {v:.2f} pts" for k, v in out["sex"].items())
          + f" (gap {abs(out['sex'].get('F', 0) - out['sex'].get('M', 0)):.2f})")
    print(f"speed: {out['speed']:.0f}× real time (CPU time of the whole pipeline, one process)")
    return out


def unknown_test(spec, profiles, background, held_out, n=20):
    """Insert a held-out background utterance into the first 60 s of open-2a (a 1 s silence either
    side), and count how often its speech is reported as unknown (> half its speech frames)."""
    import soundfile as sf

    conv = "open-2a"
    x, sr = sf.read(CORPUS / "conversations" / f"{conv}.flac", dtype="int16")
    head, tail = x[: 60 * sr], x[60 * sr : 90 * sr]
    rms = np.sqrt(np.mean(head.astype(float) ** 2))
    hits, fracs = 0, []
    settings = settings_for(spec[conv])
    for path in held_out[:n]:
        u = P.read_audio(path).astype(float)
        u = (u * (rms / max(1.0, np.sqrt(np.mean(u ** 2))))).clip(-32767, 32767).astype(np.int16)
        gap = np.zeros(sr, np.int16)
        audio = np.concatenate([head, gap, u, gap, tail])
        a, b = (len(head) + sr) / sr, (len(head) + sr + len(u)) / sr
        att = make_attributor("voices", spec[conv]["speakers"], profiles, settings, background=background)
        res = Pipeline(ArraySource(audio), att, settings, mode="voices").run()
        segs = res.ledger.closed_segments(res.duration_s)
        inside = collections.Counter()
        for s, e, w in segs:
            ov = max(0.0, min(e, b) - max(s, a))
            inside[w] += ov
        tot = sum(inside.values())
        frac = inside[UNKNOWN] / tot if tot else 0.0
        fracs.append(frac)
        hits += frac > 0.5
    return hits / max(1, len(fracs)), float(np.mean(fracs)) if fracs else 0.0


def auto_table(convs, spec, ref):
    print("\n## auto mode (blind; true speaker count given / estimated)")
    print(f"{'file':<9} {'DER% given':>10} {'share':>6} {'DER% est':>9} {'share':>6} {'n est':>5}")
    out = {}
    for given in (True, False):
        rows = []
        for conv in convs:
            sp = spec[conv]
            att = make_attributor("auto", sp["speakers"] if given else [], None, settings_from())
            res, _ = run_one(FileSource(CORPUS / "conversations" / f"{conv}.flac", mono=True), att, settings_from())
            hyp = res.ledger.closed_segments(res.duration_s)
            d = E.diarization_error(ref[conv], hyp)
            rows.append((conv, d["der"], d["total"], E.floor_share_error(ref[conv], hyp, d["mapping"]), len(att.speakers)))
        out[given] = rows
    for (c, d1, t1, s1, _), (_, d2, t2, s2, n2) in zip(out[True], out[False]):
        print(f"{c:<9} {100 * d1:10.1f} {s1:6.2f} {100 * d2:9.1f} {s2:6.2f} {n2:5d}")
    res = {}
    for given, rows in out.items():
        res[given] = (sum(r[1] * r[2] for r in rows) / sum(r[2] for r in rows), float(np.mean([r[3] for r in rows])))
    print(f"{'ALL':<9} {100 * res[True][0]:10.1f} {res[True][1]:6.2f} {100 * res[False][0]:9.1f} {res[False][1]:6.2f}")
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer unknown trials")
    ap.add_argument("--no-auto", action="store_true")
    ap.add_argument("--ablation", action="store_true", help="also without session adaptation / turn learning")
    args = ap.parse_args()
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}", file=sys.stderr)
        return 2
    spec, ref, events, sex, enroll = corpus()
    convs = list(spec)
    profiles = {s: P.enroll(s, xs) for s, xs in enroll.items()}
    bg_files = sorted(glob.glob(str(CORPUS / "background" / "*.flac")))
    bg_train, bg_test = bg_files[0::2], bg_files[1::2]
    background = P.build_background([P.read_audio(f) for f in bg_train])
    results = {}
    results["bg"] = voices_table("with a background model (50 corpus/background voices)", convs, spec, ref, events, sex, profiles, background)
    results["nobg"] = voices_table("default install: no background model", convs, spec, ref, events, sex, profiles, None)
    if args.ablation:
        for name, vs in {"no adaptation, no turn learning": VoiceSettings(adapt=False, learn_turns=False),
                         "adaptation, no turn learning": VoiceSettings(learn_turns=False)}.items():
            voices_table(name + " (background model)", [c for c in convs if c.startswith("rr")], spec, ref, events, sex, profiles, background, vs)
    n = 10 if args.quick else 25
    unk_bg = unknown_test(spec, profiles, background, bg_test, n)
    unk_nobg = unknown_test(spec, profiles, None, bg_test, n)
    print(f"\n## unknown voice ({n} held-out background utterances inserted into open-2a)")
    print(f"with background model: reported unknown {100 * unk_bg[0]:.0f} % (mean {100 * unk_bg[1]:.0f} % of its speech)")
    print(f"without:               reported unknown {100 * unk_nobg[0]:.0f} % (mean {100 * unk_nobg[1]:.0f} % of its speech)")
    auto = None if args.no_auto else auto_table(convs, spec, ref)

    print("\n## bars")
    for key, label in (("bg", "with background"), ("nobg", "no background")):
        r = results[key]
        rec = r.get("rr2q_recall", {})
        gap = 100 * abs(max(rec.values()) - min(rec.values())) if rec else float("nan")
        print(f"[{label}] share err {r['share']:.2f} (≤1.0) | DER {100 * r['der']:.1f} % (≤8) | int F1 {r['int']:.2f} (≥0.7) | "
              f"bc F1 {r['bc']:.2f} (≥0.6) | rr-2q recall gap {gap:.1f} pts (≤2) | enrolled called unknown "
              f"{100 * r['unknown_frac']:.1f} % (<5) | sex gap {abs(r['sex'].get('F', 0) - r['sex'].get('M', 0)):.2f} pts (≤1) | "
              f"speed {r['speed']:.0f}× (≥100)")
    print(f"unknown reported: {100 * unk_bg[0]:.0f} % with background, {100 * unk_nobg[0]:.0f} % without (≥80)")
    if auto:
        print(f"auto: DER {100 * auto[True][0]:.1f} % (≤20), share err {auto[True][1]:.2f} (≤5) with the true count; "
              f"estimated count: DER {100 * auto[False][0]:.1f} %, share err {auto[False][1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
