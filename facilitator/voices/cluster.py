"""``auto`` mode: blind clustering of one shared microphone's voices (offline: decided at flush).

Speech is cut into 1.5 s windows; each window becomes a MAP-adapted mean supervector of a UBM fitted
to the recording itself; agglomerative (Ward) clustering on the normalised supervectors gives the
speakers — the count given, or estimated by the largest relative gap in merge distances (2–8). Then
each cluster gets a GMM and the HMM decoder of ``voices`` mode re-segments the whole recording twice
at 10 ms resolution.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from facilitator.attribution import Activity, DecidedFrames
from facilitator.voices import features as feat
from facilitator.voices.gmm import GMM, _posteriors, map_adapt, stats, train_gmm

SUB = 3


class AutoAttributor:
    def __init__(self, speakers: list[str], frame_s: float = 0.03, window_s: float = 1.5,
                 max_speakers: int = 8):
        self.names = list(speakers)
        self.speakers = list(speakers) if speakers else []
        self.frame_s = frame_s
        self.window_s = window_s
        self.max_speakers = max_speakers
        self._frames: list[DecidedFrames] = []

    def on_event(self, event: dict) -> None:
        pass

    def push(self, frames: DecidedFrames) -> Iterator[Activity]:
        self._frames.append(frames)
        return iter(())

    def flush(self) -> Iterator[Activity]:
        if not self._frames:
            return
        start = self._frames[0].start_index
        pcm = np.concatenate([f.pcm for f in self._frames])
        speech = np.concatenate([f.speech for f in self._frames]).any(axis=1)
        self._frames = []
        mono = pcm.mean(axis=1).astype(np.int16) if pcm.shape[1] > 1 else pcm[:, 0]
        labels = self.diarize(mono.reshape(-1), speech)
        for i, lab in enumerate(labels):
            yield start + i, lab

    # -------------------------------------------------------------------------------------------
    def diarize(self, samples: np.ndarray, speech: np.ndarray) -> list[frozenset]:
        n_frames = len(speech)
        c = feat.cepstra(samples)
        x = np.concatenate([c, feat.deltas(c)], axis=1)
        sp = np.repeat(speech, SUB)[: len(x)]
        sp = np.concatenate([sp, np.zeros(len(x) - len(sp), bool)])
        idx = np.flatnonzero(sp)
        empty = frozenset()
        if len(idx) < 200:
            name = self.names[0] if self.names else "S1"
            self.speakers = self.speakers or [name]
            return [frozenset([name]) if s and len(idx) else empty for s in speech]
        xs = x[idx]
        xs[:, : feat.N_CEPS] -= feat.sliding_mean(xs[:, : feat.N_CEPS], 300)
        sub = xs[:: max(1, len(xs) // 30000)]
        ubm = train_gmm(sub, n_components=64, iterations=8)
        win = int(self.window_s * 100)
        n_win = max(1, len(xs) // win)
        post = _posteriors(ubm, xs)
        sv = []
        for w in range(n_win):
            p = post[w * win : (w + 1) * win]
            n = p.sum(0)
            f = p.T @ xs[w * win : (w + 1) * win]
            m = map_adapt(ubm, n, f, 8.0).means
            sv.append(((m - ubm.means) * np.sqrt(ubm.weights)[:, None] / np.sqrt(ubm.variances)).ravel())
        sv = np.array(sv)
        sv -= sv.mean(0)
        # project to a low dimension (PCA) and length-normalise
        u, s, vt = np.linalg.svd(sv, full_matrices=False)
        k = min(20, len(s))
        emb = u[:, :k] * s[:k]
        emb /= np.linalg.norm(emb, axis=1, keepdims=True) + 1e-9
        n_spk = len(self.names) if self.names else None
        labels = _ward(emb, n_spk, self.max_speakers)
        n_clusters = labels.max() + 1
        if not self.speakers:
            self.speakers = [f"S{i + 1}" for i in range(n_clusters)]
        # resegmentation: GMM per cluster adapted from the UBM, Viterbi at 30 ms
        win_of = np.minimum(np.arange(len(xs)) // win, n_win - 1)
        frame_lab = labels[win_of]
        for _ in range(2):
            models = []
            for c_ in range(n_clusters):
                sel = frame_lab == c_
                models.append(map_adapt(ubm, *stats(ubm, xs[sel]), 16.0) if sel.any() else ubm)
            u_ll = ubm.loglik(xs)
            llr = np.stack([m.loglik(xs) - u_ll for m in models], axis=1)
            frame_lab = _viterbi(llr, switch=60.0)
        # back to 30 ms frames (majority of the three 10 ms features)
        owner = idx // SUB
        out: list[frozenset] = [empty] * n_frames
        votes = np.zeros((n_frames, n_clusters))
        np.add.at(votes, (owner, frame_lab), 1)
        best = votes.argmax(1)
        for i in range(n_frames):
            if speech[i]:
                out[i] = frozenset([self.speakers[best[i]]]) if votes[i].any() else out[i - 1] if i else empty
        return out


def _ward(emb: np.ndarray, n_spk: int | None, max_spk: int) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster, linkage

    if len(emb) < 2:
        return np.zeros(len(emb), int)
    z = linkage(emb, method="ward")
    if n_spk is None:
        d = z[:, 2]
        hi = min(max_spk, len(emb))
        # merge heights of going from k+1 to k clusters; choose k with the biggest jump ratio
        best_k, best_r = 1, 0.0
        for k in range(2, hi + 1):
            r = d[-k + 1] / max(d[-k], 1e-9)
            if r > best_r:
                best_k, best_r = k, r
        n_spk = best_k
    lab = fcluster(z, t=n_spk, criterion="maxclust") - 1
    # relabel by first appearance
    order = {c: i for i, c in enumerate(dict.fromkeys(lab))}
    return np.array([order[c] for c in lab])


def _viterbi(llr: np.ndarray, switch: float, scale: float = 0.25) -> np.ndarray:
    n, k = llr.shape
    e = scale * llr
    back = np.zeros((n, k), np.int16)
    delta = e[0].copy()
    ar = np.arange(k)
    for t in range(1, n):
        best = int(delta.argmax())
        sw = delta[best] - switch * scale
        back[t] = np.where(delta >= sw, ar, best)
        delta = np.maximum(delta, sw) + e[t]
    path = np.empty(n, int)
    s = int(delta.argmax())
    for t in range(n - 1, -1, -1):
        path[t] = s
        s = back[t, s]
    return path
