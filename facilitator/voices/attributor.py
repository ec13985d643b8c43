"""``voices`` mode: streaming speaker identification of one shared microphone against enrolled voices.

Every 10 ms of speech is scored against each person's model (log-likelihood ratio to the background
model); a small hidden Markov model — one state per person, one for ``unknown`` and one per pair
(overlap) — smooths the scores with a fixed switch cost, decoded by Viterbi with a fixed lag, so a
decision is final ``lag_s`` after the frame (≤ 1 s) and a speaker change inside continuous speech is
found where the evidence turns. Confidently decided stretches (and, in round-robin, the protected
turn holder's own speech) adapt the people's models to the room as the session goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Iterator

import numpy as np

from facilitator.attribution import UNKNOWN, Activity, DecidedFrames
from facilitator.voices import features as feat
from facilitator.voices.models import SessionModels

SUB = 3  # 10 ms feature frames per 30 ms VAD frame


@dataclass
class VoiceSettings:
    lag_s: float = 0.9  # decision delay (Viterbi lag)
    hop_s: float = 0.24  # score and decode in steps of this much audio
    scale: float = 0.25  # weight of one 10 ms frame's LLR (frames are correlated)
    switch_cost: float = 6.0  # scaled log-prob cost of changing state
    unknown_llr: float = -0.05  # per-frame LLR an ``unknown`` voice is assumed to have
    overlap: bool = True
    overlap_cost: float = 0.15  # per-10 ms-frame extra cost of the two-voice states
    cmn_span: int = 300  # mean normalisation over the last 3 s of speech
    adapt: bool = True  # learn from confident stretches
    adapt_margin: float = 0.6  # mean LLR margin over ~1 s needed to learn from a frame (0.15 let one model absorb another voice in echoing rooms)
    adapt_every_s: float = 4.0
    learn_turns: bool = True  # round-robin: the holder's speech teaches the holder's model
    change_overlap_s: float = 0.3  # a change with no pause between voices: both speak this long either side
    island_max_s: float = 1.0  # a short other voice inside one person's speech = both (a backchannel)
    dip_db: float = 15.0  # a pause: frames this far below the recent speech level …
    dip_min_s: float = 0.15  # … for at least this long


class VoiceAttributor:
    """Attributor for one shared microphone and enrolled voices (see module docstring)."""

    def __init__(self, models: SessionModels, settings: VoiceSettings | None = None, frame_s: float = 0.03):
        self.m = models
        self.speakers = list(models.speakers)
        self.cfg = settings or VoiceSettings()
        self.frame_s = frame_s
        n = len(self.speakers)
        self.labels: list[frozenset] = [frozenset([s]) for s in self.speakers] + [frozenset([UNKNOWN])]
        self.pairs = list(combinations(range(n), 2)) if self.cfg.overlap else []
        self.labels += [frozenset([self.speakers[a], self.speakers[b]]) for a, b in self.pairs]
        self.n_states = len(self.labels)
        self.lag = max(1, int(round(self.cfg.lag_s / frame_s)))
        self.hop = max(1, int(round(self.cfg.hop_s / frame_s)))
        # audio → features
        self._samples = np.zeros(0, np.int16)
        self._ceps = np.zeros((0, feat.N_CEPS), np.float32)  # cepstra not yet turned into features
        self._ceps_base = 0  # feature index of _ceps[0]
        self._speech_of_frame: list[np.ndarray] = []
        self._speech = np.zeros(0, bool)  # per 30 ms frame since _frame_base
        self._energy = np.zeros(0, np.float32)  # per 30 ms frame since _frame_base
        self._level_db = -30.0  # running speech level
        self._frame_base: int | None = None  # stream frame index of _speech[0]
        self._next_feat = 0  # next feature index to finish (needs 2 frames of lookahead for Δ)
        self._cmn_buf = np.zeros((0, feat.N_CEPS), np.float32)  # recent speech cepstra
        self._pending: list[DecidedFrames] = []
        self._pending_n = 0
        # decoding
        self._delta = np.zeros(self.n_states)
        self._back: list[np.ndarray] = []  # backpointers of undecided frames
        self._emis_llr: list[np.ndarray] = []  # per undecided frame: (SUB, n) LLR or None
        self._feats_of: list[np.ndarray | None] = []
        self._decided = 0  # always 0: lists start at the first undecided frame
        self._done_abs = 0  # frames committed since the attributor started
        self._scored = 0  # frames with emissions
        self._ctx_llr: list[np.ndarray] = []  # recent frames' mean LLR for adaptation margins
        self._holder: str | None = None
        self._since_adapt_s = 0.0
        self._learn_buf: dict[str, list[np.ndarray]] = {s: [] for s in self.speakers}

    # ----------------------------------------------------------------- protocol
    def on_event(self, event: dict) -> None:
        kind = event.get("kind")
        if kind == "turn_start":
            self._holder = event.get("holder")
        elif kind in ("turn_end", "session_end"):
            self._holder = None

    def push(self, frames: DecidedFrames) -> Iterator[Activity]:
        if self._frame_base is None:
            self._frame_base = frames.start_index
        self._pending.append(frames)
        self._pending_n += len(frames)
        if self._pending_n >= self.hop:
            pcm, speech, energy = self._take_pending()
            # always in steps of exactly ``hop`` frames, so block sizes never change the result
            n_steps = len(speech) // self.hop
            for k in range(n_steps):
                sl = slice(k * self.hop, (k + 1) * self.hop)
                yield from self._process(pcm[sl], speech[sl], energy[sl], final=False)
            rest = n_steps * self.hop
            if rest < len(speech):
                self._pending = [(pcm[rest:], speech[rest:], energy[rest:])]
                self._pending_n = len(speech) - rest

    def flush(self) -> Iterator[Activity]:
        if self._frame_base is None:
            return
        pcm, speech, energy = self._take_pending()
        yield from self._process(pcm, speech, energy, final=True)

    # ----------------------------------------------------------------- internals
    def _take_pending(self):
        parts = []
        for f in self._pending:
            if isinstance(f, tuple):
                parts.append(f)
                continue
            pcm = f.pcm.mean(axis=1).astype(np.int16) if f.pcm.shape[1] > 1 else f.pcm[:, 0]
            parts.append((pcm, f.speech.any(axis=1), f.energy_db.max(axis=1)))
        self._pending, self._pending_n = [], 0
        if not parts:
            return np.zeros((0, 480), np.int16), np.zeros(0, bool), np.zeros(0, np.float32)
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                np.concatenate([p[2] for p in parts]))

    def _process(self, pcm, speech, energy, final: bool) -> Iterator[Activity]:
        if len(speech):
            self._energy = np.concatenate([self._energy, energy])
            self._add_audio(pcm.reshape(-1), speech)
        self._score(final)
        yield from self._decode(final)

    def _add_audio(self, samples: np.ndarray, speech: np.ndarray) -> None:
        self._samples = np.concatenate([self._samples, samples])
        self._speech = np.concatenate([self._speech, speech])
        c = feat.cepstra(self._samples)
        if len(c):
            self._samples = self._samples[len(c) * feat.HOP :]
            self._ceps = np.concatenate([self._ceps, c])

    def _score(self, final: bool) -> None:
        """Turn finished cepstra into features, LLRs and per-frame emissions."""
        total_feats = self._ceps_base + len(self._ceps)
        ready = total_feats if final else total_feats - feat.DELTA_K
        done_abs = self._done_abs + self._scored  # absolute index of the first unscored frame
        have_abs = self._done_abs + len(self._speech)
        ready_abs = have_abs if final else min(ready // SUB, have_abs)
        if ready_abs <= done_abs:
            return
        f0, f1 = done_abs * SUB, min(ready_abs * SUB, total_feats)
        lo = max(self._ceps_base, f0 - feat.DELTA_K)
        ceps = self._ceps[lo - self._ceps_base : total_feats - self._ceps_base]
        d = feat.deltas(ceps)[f0 - lo : f1 - lo]
        c = ceps[f0 - lo : f1 - lo]
        n_new = ready_abs - done_abs
        fr_speech = self._speech[self._scored : self._scored + n_new]
        sp = np.repeat(fr_speech, SUB)[: f1 - f0]
        sp = np.concatenate([sp, np.zeros(f1 - f0 - len(sp), bool)])
        # mean normalisation over recent speech (this block's speech counts as lookahead)
        cs = c[sp]
        hist = np.concatenate([self._cmn_buf, cs])
        span = self.cfg.cmn_span
        if len(cs):
            cum = np.cumsum(np.concatenate([np.zeros((1, feat.N_CEPS)), hist.astype(np.float64)]), axis=0)
            end = np.arange(len(self._cmn_buf) + 1, len(hist) + 1)
            end = np.maximum(end, min(len(hist), 100))  # at least 1 s of speech in the mean
            lo_i = np.maximum(end - span, 0)
            mean = (cum[end] - cum[lo_i]) / (end - lo_i)[:, None]
            x = np.concatenate([cs - mean.astype(np.float32), d[sp]], axis=1)
            llr = self.m.llr(x)
        else:
            x = np.zeros((0, feat.FEATURE_DIM), np.float32)
            llr = np.zeros((0, len(self.speakers)))
        self._cmn_buf = hist[-span:]
        # per 30 ms frame: stack of its speech features' LLRs
        owner = np.repeat(np.arange(n_new), SUB)[: f1 - f0][sp[: n_new * SUB]] if len(cs) else np.zeros(0, int)
        bounds = np.searchsorted(owner, np.arange(n_new + 1))
        for k in range(n_new):
            a, b = bounds[k], bounds[k + 1]
            self._emis_llr.append(llr[a:b] if b > a else None)
            self._feats_of.append(x[a:b] if b > a else None)
        self._scored += n_new
        # drop consumed cepstra but keep Δ context
        keep_from = max(self._ceps_base, f1 - feat.DELTA_K)
        self._ceps = self._ceps[keep_from - self._ceps_base :]
        self._ceps_base = keep_from

    def _emission(self, llr: np.ndarray | None) -> np.ndarray:
        n = len(self.speakers)
        e = np.zeros(self.n_states)
        if llr is None:
            return e
        cfg = self.cfg
        e[:n] = llr.sum(axis=0)
        e[n] = cfg.unknown_llr * len(llr)
        for j, (a, b) in enumerate(self.pairs):
            hi = np.maximum(llr[:, a], llr[:, b])
            mix = hi + np.log(0.5 + 0.5 * np.exp(-np.abs(llr[:, a] - llr[:, b])))
            e[n + 1 + j] = mix.sum() - cfg.overlap_cost * len(llr)
        return cfg.scale * e

    def _decode(self, final: bool) -> Iterator[Activity]:
        cost = self.cfg.switch_cost
        start = len(self._back) + self._decided
        for k in range(start, self._scored):
            e = self._emission(self._emis_llr[k - self._decided])
            best = int(np.argmax(self._delta))
            stay = self._delta
            switch = self._delta[best] - cost
            back = np.where(stay >= switch, np.arange(self.n_states), best)
            self._delta = np.maximum(stay, switch) + e
            self._delta -= self._delta.max()
            self._back.append(back.astype(np.int16))
        commit_to = self._scored if final else self._scored - self.lag
        if commit_to <= self._decided:
            return
        # backtrack from the best current state
        path = np.empty(len(self._back), np.int64)
        s = int(np.argmax(self._delta))
        for i in range(len(self._back) - 1, -1, -1):
            path[i] = s
            s = int(self._back[i][s])
        n_commit = commit_to - self._decided
        states = self._rules(path)
        empty = frozenset()
        base = self._frame_base + self._decided
        for i in range(n_commit):
            yield base + i, (self.labels[states[i]] if states[i] >= 0 else empty)
        self._learn(path[:n_commit], n_commit)
        del self._back[:n_commit]
        del self._emis_llr[:n_commit]
        del self._feats_of[:n_commit]
        self._speech = self._speech[n_commit:]
        self._energy = self._energy[n_commit:]
        self._scored -= n_commit
        self._frame_base += n_commit
        self._done_abs += n_commit
        if final:
            self._back.clear()

    def _rules(self, path: np.ndarray) -> np.ndarray:
        """Decoded states → output states (-1 = nobody), with the overlap rules applied."""
        cfg = self.cfg
        n = len(self.speakers)
        speech = self._speech[: len(path)]
        energy = self._energy[: len(path)]
        out = np.where(speech, path, -1)
        if not len(out):
            return out
        sp_e = energy[speech]
        if len(sp_e):
            self._level_db = 0.9 * self._level_db + 0.1 * float(np.percentile(sp_e, 80))
        dip = speech & (energy < self._level_db - cfg.dip_db)
        # runs of dip frames at least dip_min_s long
        min_n = max(1, int(round(cfg.dip_min_s / self.frame_s)))
        d = np.concatenate([[0], dip.astype(np.int8), [0]])
        starts, ends = np.flatnonzero(np.diff(d) == 1), np.flatnonzero(np.diff(d) == -1)
        long_dip = np.zeros(len(out), bool)
        for a, b in zip(starts, ends):
            if b - a >= min_n:
                long_dip[a:b] = True
        if not cfg.overlap or n < 2:
            return out
        pair_state = {p: n + 1 + j for j, p in enumerate(self.pairs)}
        # segments of one single-person state (speech frames only, nobody-frames break them)
        seg = []
        i = 0
        while i < len(out):
            j = i
            while j < len(out) and out[j] == out[i]:
                j += 1
            seg.append((i, j, int(out[i])))
            i = j
        res = out.copy()
        ov = max(1, int(round(cfg.change_overlap_s / self.frame_s)))
        isl = int(round(cfg.island_max_s / self.frame_s))
        for k in range(1, len(seg)):
            a0, a1, sa = seg[k - 1]
            b0, b1, sb = seg[k]
            if not (0 <= sa < n and 0 <= sb < n):
                continue
            key = (min(sa, sb), max(sa, sb))
            if k + 1 < len(seg) and seg[k + 1][2] == sa and b1 - b0 < isl and not long_dip[b0:b1].any():
                res[b0:b1] = pair_state[key]  # a short other voice inside one person's speech
                continue
            if long_dip[max(a0, b0 - ov) : min(b1, b0 + ov)].any():
                continue  # a pause between the voices: an ordinary change of speaker
            lo, hi = max(a0, b0 - ov), min(b1, b0 + ov)
            res[lo:hi] = np.where(res[lo:hi] >= 0, pair_state[key], res[lo:hi])
        return res

    def _learn(self, path: np.ndarray, n_commit: int) -> None:
        cfg = self.cfg
        if not cfg.adapt and not (cfg.learn_turns and self._holder):
            return
        n = len(self.speakers)
        # mean LLR per frame over the committed frames and their ~1 s context (to judge confidence)
        llrs = self._emis_llr[: n_commit + self.lag]
        means = np.array([l.mean(axis=0) if l is not None else np.full(n, np.nan) for l in llrs])
        if not len(means):
            return
        w = 33
        valid = ~np.isnan(means[:, 0])
        filled = np.where(valid[:, None], means, 0.0)
        num = np.array([np.convolve(filled[:, i], np.ones(w), "same") for i in range(n)]).T
        den = np.convolve(valid.astype(float), np.ones(w), "same")[:, None]
        smooth = num / np.maximum(den, 1)
        holder = self._holder if cfg.learn_turns else None
        for i in range(n_commit):
            x = self._feats_of[i]
            s = int(path[i])
            if x is None:
                continue
            if s < n:
                srt = np.sort(smooth[i])
                margin = smooth[i, s] - (srt[-2] if n > 1 else 0.0)
                if cfg.adapt and margin >= cfg.adapt_margin and smooth[i, s] > cfg.unknown_llr:
                    self._learn_buf[self.speakers[s]].append(x)
                elif holder is not None and self.speakers[s] == holder:
                    self._learn_buf[holder].append(x)
            elif s == n and holder is not None and holder in self._learn_buf:
                self._learn_buf[holder].append(x)
        self._since_adapt_s += n_commit * self.frame_s
        if self._since_adapt_s >= cfg.adapt_every_s:
            self._since_adapt_s = 0.0
            for spk, xs in self._learn_buf.items():
                if xs:
                    self.m.learn(spk, np.concatenate(xs))
                    self.m.readapt(spk)
                    xs.clear()
