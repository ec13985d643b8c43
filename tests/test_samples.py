"""The bundled demo samples (samples/, made by samples/make_samples.py) match their own truth.

Needs only the repository: checks the audio files against spec.json, samples.rttm and events.tsv.
"""
from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SR = 16000


def _spec() -> list[dict]:
    return json.loads((SAMPLES / "spec.json").read_text())["samples"]


def _rttm() -> dict[str, list[tuple[str, float, float]]]:
    """uri → [(speaker, start_s, end_s)]"""
    out: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    for line in (SAMPLES / "samples.rttm").read_text().splitlines():
        f = line.split()
        assert f[0] == "SPEAKER" and len(f) == 10, line
        start, dur = float(f[3]), float(f[4])
        out[f[1]].append((f[7], start, start + dur))
    return out


def _events() -> list[dict]:
    with open(SAMPLES / "events.tsv", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


SPEC = _spec()
IDS = [s["id"] for s in SPEC]


def _load(sample: dict) -> np.ndarray:
    audio, sr = sf.read(SAMPLES / sample["file"], dtype="float64", always_2d=True)
    assert sr == SR
    return audio


def _mask(segs, n: int, pad_s: float = 0.0) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    for _, a, b in segs:
        m[max(0, int((a - pad_s) * SR)):int((b + pad_s) * SR)] = True
    return m


def _db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(x ** 2) + 1e-20)


def test_spec_lists_the_expected_samples():
    assert {s["file"] for s in SPEC} == {"open-2.flac", "open-2.mics.flac", "rr-2.flac", "meeting-3.flac"}


@pytest.mark.parametrize("sample", SPEC, ids=IDS)
def test_file_format_matches_spec(sample):
    info = sf.info(SAMPLES / sample["file"])
    assert info.samplerate == SR
    assert info.channels == sample["channels"]
    assert info.format == "FLAC" and info.subtype == "PCM_16"
    assert info.frames / SR == pytest.approx(sample["duration_s"], abs=1e-3)
    if sample["channels"] > 1:
        assert sample["channels"] == len(sample["speakers"])  # one microphone per person


@pytest.mark.parametrize("sample", SPEC, ids=IDS)
def test_rttm_segments_lie_within_the_file(sample):
    segs = _rttm()[sample["uri"]]
    assert segs
    assert {who for who, _, _ in segs} == set(sample["speakers"])
    for who, a, b in segs:
        assert 0.0 <= a < b <= sample["duration_s"], (who, a, b)
    # a person never overlaps themself
    for who in sample["speakers"]:
        mine = sorted((a, b) for w, a, b in segs if w == who)
        assert all(b0 <= a1 for (_, b0), (a1, _) in zip(mine, mine[1:])), who


@pytest.mark.parametrize("sample", SPEC, ids=IDS)
def test_speech_is_louder_inside_segments_than_in_gaps(sample):
    audio = _load(sample).mean(axis=1)
    segs = _rttm()[sample["uri"]]
    inside = _mask(segs, len(audio))
    outside = ~_mask(segs, len(audio), pad_s=0.05)
    assert outside.sum() > 0.5 * SR  # there are gaps to measure
    assert _db(audio[inside]) - _db(audio[outside]) > 15.0
    assert _db(audio[outside]) > -70.0  # low-level noise, not digital silence


@pytest.mark.parametrize("sample", [s for s in SPEC if s["channels"] > 1], ids=lambda s: s["id"])
def test_each_mic_carries_its_own_speaker_above_crosstalk(sample):
    audio = _load(sample)
    segs = _rttm()[sample["uri"]]
    n = len(audio)
    talking = {who: _mask([s for s in segs if s[0] == who], n) for who in sample["speakers"]}
    for c, who in enumerate(sample["speakers"]):
        alone = talking[who].copy()
        for other, m in talking.items():
            if other != who:
                alone &= ~_mask([s for s in segs if s[0] == other], n, pad_s=0.05)
        assert alone.sum() > 5 * SR
        for o in range(audio.shape[1]):
            if o != c:
                ratio = _db(audio[alone, c]) - _db(audio[alone, o])
                # crosstalk at -18 dB (noise in the quieter channel makes it read a little lower)
                assert 14.0 < ratio < 20.0, (who, o, ratio)


@pytest.mark.parametrize("sample", SPEC, ids=IDS)
def test_events_agree_with_the_segments(sample):
    segs = _rttm()[sample["uri"]]
    events = [e for e in _events() if e["conversation"] == sample["uri"]]
    starts = {(w, round(a, 3)) for w, a, _ in segs}
    ends = {(w, round(b, 3)) for w, _, b in segs}
    for e in events:
        t = float(e["time_s"])
        assert e["who"] in sample["speakers"]
        if e["kind"] == "turn_end":
            assert (e["who"], t) in ends and e["whom"] == ""
            continue
        assert e["kind"] in ("interruption", "backchannel")
        assert e["whom"] in sample["speakers"] and e["whom"] != e["who"]
        (seg,) = [s for s in segs if s[0] == e["who"] and round(s[1], 3) == t]
        (held,) = [s for s in segs if s[0] == e["whom"] and s[1] < t < s[2]]  # holder mid-utterance
        if e["kind"] == "backchannel":
            assert seg[2] - seg[1] < 1.0
            assert held[2] > seg[2]  # the holder keeps talking
        else:
            assert seg[2] - seg[1] >= 1.5
            assert 0.0 < held[2] - t <= 0.55  # the holder stops within ~0.5 s
    assert sum(e["kind"] == "interruption" for e in events) == sample["interruptions"]
    assert sum(e["kind"] == "backchannel" for e in events) == sample["backchannels"]


def test_round_robin_turns_hold_their_allowance():
    (rr,) = [s for s in SPEC if s["protocol"] == "round-robin"]
    segs = _rttm()[rr["uri"]]
    turn_ends = [e for e in _events() if e["conversation"] == rr["uri"] and e["kind"] == "turn_end"]
    assert len(rr["turns"]) == len(turn_ends) == 4
    for turn, end in zip(rr["turns"], turn_ends):
        holder = turn["holder"]
        assert end["who"] == holder and float(end["time_s"]) == pytest.approx(turn["end_s"], abs=1e-3)
        floor = sum(b - a for w, a, b in segs if w == holder and turn["start_s"] - 1e-6 <= a < turn["end_s"])
        assert rr["turn_s"] <= floor + 2e-3 < rr["turn_s"] + 1.0
        others = [(w, a, b) for w, a, b in segs if w != holder and turn["start_s"] <= a < turn["end_s"]]
        for _, a, b in others:
            assert b - a < 1.0 or 1.5 <= b - a <= 3.0  # backchannel, or a 1.5–3 s interruption
