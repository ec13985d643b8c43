"""Voice identification on one shared microphone: features, models, profiles, attributors, commands."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from facilitator.attribution import UNKNOWN, DecidedFrames
from facilitator.cli import main
from facilitator.errors import UserError
from facilitator.voices import features, make_attributor
from facilitator.voices import profile as P
from facilitator.voices.gmm import GMM, map_adapt, stats, train_gmm

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
CORPUS = REPO.parent / "shared" / "corpus"
corpus = pytest.mark.skipif(not (CORPUS / "conversations" / "enrollment.tsv").exists(),
                            reason=f"the shared speech corpus is not at {CORPUS}")


def _sample_truth(uri: str) -> list[tuple[float, float, str]]:
    out = []
    for line in (SAMPLES / "samples.rttm").read_text().splitlines():
        p = line.split()
        if p and p[1] == uri:
            out.append((float(p[3]), float(p[3]) + float(p[4]), p[7]))
    return out


@pytest.fixture(scope="module")
def open2():
    x, sr = sf.read(SAMPLES / "open-2.flac", dtype="int16")
    assert sr == 16000
    return x, _sample_truth("open-2")


def _voice_of(x, truth, name, max_s=15.0):
    parts, got = [], 0.0
    for a, b, w in truth:
        if w == name and got < max_s:
            parts.append(x[int(a * 16000) : int(b * 16000)])
            got += b - a
    return np.concatenate(parts), got


def test_features_shape_and_determinism():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(16000) * 3000).astype(np.int16)
    c = features.cepstra(x)
    assert c.shape == (1 + (16000 - features.WIN) // features.HOP, features.N_CEPS)
    assert np.allclose(c, features.cepstra(x))
    f = features.utterance_features(x)
    assert f.shape[1] == features.FEATURE_DIM and np.isfinite(f).all()


def test_gmm_fits_and_map_moves_means_towards_data():
    rng = np.random.default_rng(1)
    a = rng.normal(-3, 1, (600, 2))
    b = rng.normal(3, 1, (600, 2))
    g = train_gmm(np.concatenate([a, b]), n_components=2, iterations=20)
    assert sorted(np.round(g.means[:, 0])) == [-3, 3]
    # the vectorised log-likelihood equals the textbook formula
    x = rng.normal(0, 2, (5, 2))
    direct = np.log(sum(w * np.prod(np.exp(-0.5 * (x - m) ** 2 / v) / np.sqrt(2 * np.pi * v), axis=1)
                        for w, m, v in zip(g.weights, g.means, g.variances)))
    assert np.allclose(g.loglik(x), direct, atol=1e-3)
    shifted = map_adapt(g, *stats(g, a + 1.0), relevance=16)
    k = int(np.argmin(g.means[:, 0]))
    assert -2.2 < shifted.means[k, 0] < -1.8


def test_profile_round_trip_private_and_damage(tmp_path, open2):
    x, truth = open2
    voice, _ = _voice_of(x, truth, "Alex")
    prof = P.enroll("Alex", [voice])
    path = P.save(prof, tmp_path)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    back = P.load(path)
    assert back.name == "Alex" and back.n_frames == prof.n_frames
    assert np.allclose(back.gmm.means, prof.gmm.means)
    path.write_bytes(b"not a profile")
    with pytest.raises(UserError, match="damaged"):
        P.load(path)
    np.savez(path, format=np.array(P.PROFILE_FORMAT), name=np.array("Alex"), n_frames=np.array(10),
             weights=np.ones(2), means=np.zeros((2, 3)), variances=np.ones((2, 3)))
    with pytest.raises(UserError, match="damaged"):
        P.load(path)
    with pytest.raises(UserError):
        P.check_name("unknown")
    with pytest.raises(UserError, match="at least"):
        P.enroll("Short", [voice[:16000]])


def _frames(x: np.ndarray, start: int = 0) -> DecidedFrames:
    n = len(x) // 480
    pcm = x[: n * 480].reshape(n, 1, 480)
    energy = 10 * np.log10(np.mean(pcm.astype(float) ** 2, axis=2) + 1) - 90.3
    return DecidedFrames(start, 0.03, energy > -45, energy.astype(np.float32), pcm)


def _run(att, x, block_frames):
    out = []
    n = len(x) // 480
    for i in range(0, n, block_frames):
        out.extend(att.push(_frames(x[i * 480 : min(n, i + block_frames) * 480], i)))
    out.extend(att.flush())
    return out


def test_voices_attributor_names_speakers_and_is_block_size_independent(open2):
    x, truth = open2
    profiles = {}
    for name in ("Alex", "Sam"):
        voice, _ = _voice_of(x, truth, name)
        profiles[name] = P.enroll(name, [voice])
    clip = x[40 * 16000 : 100 * 16000]
    results = []
    for block in (1, 7, 50):
        att = make_attributor("voices", ["Alex", "Sam"], profiles)
        results.append(_run(att, clip, block))
    assert results[0] == results[1] == results[2]
    out = results[0]
    assert [i for i, _ in out] == list(range(len(clip) // 480))
    # frame-level agreement with the truth where exactly one person speaks
    right = total = 0
    for i, names in out:
        t = 40 + (i + 0.5) * 0.03
        who = {w for a, b, w in truth if a <= t < b}
        if len(who) == 1 and names:
            total += 1
            right += who <= names
    assert total > 500 and right / total > 0.9


def test_unknown_state_exists_and_auto_mode_clusters(open2):
    x, truth = open2
    att = make_attributor("voices", ["Alex", "Sam"], {n: P.enroll(n, [_voice_of(x, truth, n)[0]]) for n in ("Alex", "Sam")})
    assert frozenset([UNKNOWN]) in att.labels
    clip = x[40 * 16000 : 100 * 16000]
    auto = make_attributor("auto", ["A", "B"])
    out = _run(auto, clip, 40)
    assert len(out) == len(clip) // 480
    assert {n for _, s in out for n in s} <= {"A", "B"}


def test_enroll_voices_forget_commands(tmp_path, open2, capsys):
    x, truth = open2
    wav = tmp_path / "alex.wav"
    sf.write(wav, _voice_of(x, truth, "Alex")[0], 16000)
    assert main(["enroll", "Alex", "--from", str(wav)]) == 0
    assert main(["enroll", "Alex", "--from", str(wav)]) == 2  # exists already
    assert main(["voices"]) == 0
    assert "Alex" in capsys.readouterr().out
    from facilitator.paths import voices_dir

    (voices_dir() / "Broken.npz").write_bytes(b"\x00junk")
    assert main(["voices"]) == 2
    err = capsys.readouterr().err
    assert "damaged" in err and err.count("\n") == 1
    assert main(["voices", "--forget", "Broken"]) == 0
    assert main(["voices", "--forget", "Alex"]) == 0
    assert main(["voices", "--forget", "Alex"]) == 2


def test_replay_voices_mode_end_to_end(tmp_path, open2):
    x, truth = open2
    args = ["replay", str(SAMPLES / "open-2.flac"), "--mode", "voices", "--speakers", "Alex,Sam",
            "--out", str(tmp_path / "s"), "--no-history", "-q"]
    for name in ("Alex", "Sam"):
        wav = tmp_path / f"{name}.wav"
        sf.write(wav, _voice_of(x, truth, name)[0], 16000)
        args += ["--voice", f"{name}={wav}"]
    assert main(args) == 0
    rttm = (tmp_path / "s" / "segments.rttm").read_text()
    assert " Alex " in rttm and " Sam " in rttm


@corpus
@pytest.mark.corpus
def test_corpus_open2a_enrolled_from_enrollment_tsv_only():
    import csv

    from facilitator import evaluate as E
    from facilitator.pipeline import Pipeline
    from facilitator.settings import settings_from
    from facilitator.sources import FileSource

    enroll = {}
    for r in csv.DictReader(open(CORPUS / "conversations" / "enrollment.tsv"), delimiter="\t"):
        enroll.setdefault(r["speaker"], []).append(P.read_audio(CORPUS / "voices" / r["utterance"]))
    names = ["1998", "2609"]
    profiles = {n: P.enroll(n, enroll[n]) for n in names}
    att = make_attributor("voices", names, profiles, settings_from())
    res = Pipeline(FileSource(CORPUS / "conversations" / "open-2a.flac", mono=True), att, settings_from()).run()
    ref = E.read_rttm(CORPUS / "conversations" / "conversations.rttm")["open-2a"]
    hyp = res.ledger.closed_segments(res.duration_s)
    d = E.diarization_error(ref, hyp)
    assert d["der"] < 0.08
    assert E.floor_share_error(ref, hyp, d["mapping"]) < 1.5
