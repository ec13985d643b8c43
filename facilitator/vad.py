"""Frames and voice activity: int16 blocks in, frames with a final speech decision out.

Per channel, webrtcvad votes on each 30 ms frame; a frame counts as voiced only if it is also clearly
above a running noise floor (the quietest frame energy over the last few seconds), and, in channels
mode, not far below the loudest channel (crosstalk from another person's mic). Hysteresis then turns
votes into speech: ``onset_ms`` of consecutive voiced frames start it, ``offset_ms`` of unvoiced frames
end it, and shorter unvoiced runs are bridged. A decision is final once its run is settled, so output
lags the input by at most max(onset, offset) — frames leave in order, aligned across channels.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from facilitator.attribution import DecidedFrames
from facilitator.settings import SAMPLE_RATE_HZ, Settings

_FULL_SCALE_SQ = 32768.0 ** 2
DIGITAL_SILENCE_DBFS = -90.0  # quieter than any microphone's own noise: the samples are zeros


def frame_energy_db(frames: np.ndarray) -> np.ndarray:
    """Mean power of each frame in dBFS; ``frames`` is (..., frame_len) int16."""
    x = frames.astype(np.float32)
    power = np.einsum("...i,...i->...", x, x) / (frames.shape[-1] * _FULL_SCALE_SQ)
    return (10.0 * np.log10(power + 1e-10)).astype(np.float32)


class Hysteresis:
    """Voiced votes in, final speech flags out (in order, at most max(onset_n, offset_n) late)."""

    __slots__ = ("onset_n", "offset_n", "hangover_n", "in_speech", "run", "out")

    def __init__(self, onset_n: int, offset_n: int, hangover_n: int = 0):
        self.onset_n = max(1, onset_n)
        self.offset_n = max(1, offset_n)
        self.hangover_n = min(max(0, hangover_n), self.offset_n)
        self.in_speech = False
        self.run = 0  # undecided frames at the end: voiced (before onset) or unvoiced (in speech)
        self.out: list[bool] = []

    def push(self, voiced: bool) -> None:
        if not self.in_speech:
            if voiced:
                self.run += 1
                if self.run >= self.onset_n:
                    self.out.extend([True] * self.run)
                    self.run = 0
                    self.in_speech = True
            else:
                self.out.extend([False] * (self.run + 1))
                self.run = 0
        elif voiced:
            self.out.extend([True] * (self.run + 1))  # the pause was short: bridged
            self.run = 0
        else:
            self.run += 1
            if self.run >= self.offset_n:
                self.out.extend([True] * self.hangover_n)
                self.out.extend([False] * (self.run - self.hangover_n))
                self.run = 0
                self.in_speech = False

    def finish(self) -> None:
        """End of stream: a pending voiced run too short for onset is not speech; a pending pause ends speech."""
        self.out.extend([False] * self.run)
        self.run = 0


class NoiseFloor:
    """Quietest frame energy over a sliding window (minimum statistics with a monotonic deque)."""

    __slots__ = ("window_n", "_deque", "_index")

    def __init__(self, window_n: int):
        self.window_n = max(1, window_n)
        self._deque: deque = deque()  # (index, energy) with increasing energies
        self._index = 0

    def update(self, energy_db: float) -> float:
        d = self._deque
        while d and d[-1][1] >= energy_db:
            d.pop()
        d.append((self._index, energy_db))
        if d[0][0] <= self._index - self.window_n:
            d.popleft()
        self._index += 1
        return d[0][1]


class SpeechDetector:
    """Blocks of int16 audio in; ``DecidedFrames`` out, in order, aligned across channels."""

    def __init__(self, channels: int, settings: Settings, crosstalk_rejection: bool = False):
        import webrtcvad

        self.settings = settings
        self.channels = channels
        self.frame_len = SAMPLE_RATE_HZ * settings.frame_ms // 1000
        self.frame_s = settings.frame_ms / 1000.0
        self.crosstalk_rejection = crosstalk_rejection and channels > 1
        self._vads = [webrtcvad.Vad(settings.vad_mode) for _ in range(channels)]
        frames_of = lambda ms: int(round(ms / settings.frame_ms))  # noqa: E731
        self._hyst = [Hysteresis(frames_of(settings.onset_ms), frames_of(settings.offset_ms),
                                frames_of(settings.hangover_ms))
                      for _ in range(channels)]
        window_n = int(round(settings.noise_window_s / self.frame_s))
        self._floors = [NoiseFloor(window_n) for _ in range(channels)]
        self._heard = [False] * channels  # has the channel carried any sound yet?
        self._remainder = np.zeros((0, channels), dtype=np.int16)
        self._frames_in = 0  # frames analysed so far
        self._emitted = 0  # frames handed out so far
        # frames analysed but not yet decided on every channel
        self._pending_pcm = np.zeros((0, channels, self.frame_len), dtype=np.int16)
        self._pending_energy = np.zeros((0, channels), dtype=np.float32)

    def push(self, block: np.ndarray) -> DecidedFrames | None:
        """Analyse a block; return the frames decided so far (or None)."""
        if block.ndim == 1:
            block = block[:, None]
        if block.shape[1] != self.channels:
            raise ValueError(f"block has {block.shape[1]} channels, detector expects {self.channels}")
        if len(self._remainder):
            block = np.concatenate([self._remainder, block])
        n_frames = len(block) // self.frame_len
        used = n_frames * self.frame_len
        self._remainder = block[used:].copy()
        if n_frames:
            frames = np.ascontiguousarray(
                block[:used].reshape(n_frames, self.frame_len, self.channels).transpose(0, 2, 1))
            self._analyse(frames)
        return self._collect()

    def flush(self) -> DecidedFrames | None:
        """End of stream: settle every pending decision (a partial last frame is dropped)."""
        for hyst in self._hyst:
            hyst.finish()
        return self._collect()

    def _analyse(self, frames: np.ndarray) -> None:
        energy = frame_energy_db(frames)  # (n, ch)
        s = self.settings
        gate_ok = np.ones_like(energy, dtype=bool)
        if self.crosstalk_rejection:
            gate_ok &= energy >= energy.max(axis=1, keepdims=True) - s.crosstalk_db
        for ch in range(self.channels):
            vad = self._vads[ch]
            floor = self._floors[ch]
            hyst = self._hyst[ch]
            column = frames[:, ch, :]
            energies = energy[:, ch].tolist()
            allowed = gate_ok[:, ch].tolist()
            gate_db = s.gate_db
            min_level = s.min_level_dbfs
            heard = self._heard[ch]
            for i, e in enumerate(energies):
                if not heard:
                    if e <= DIGITAL_SILENCE_DBFS:
                        # zeros before the first sound (a device starting up) are no room noise:
                        # they must not open the gate, or the result would depend on them
                        hyst.push(False)
                        continue
                    heard = self._heard[ch] = True
                floor_db = floor.update(e)
                voiced = (allowed[i] and e > min_level and e > floor_db + gate_db
                          and vad.is_speech(column[i].tobytes(), SAMPLE_RATE_HZ))
                hyst.push(voiced)
        self._pending_pcm = np.concatenate([self._pending_pcm, frames]) if len(self._pending_pcm) else frames
        self._pending_energy = (np.concatenate([self._pending_energy, energy])
                                if len(self._pending_energy) else energy)
        self._frames_in += len(frames)

    def _collect(self) -> DecidedFrames | None:
        decided = min(len(h.out) for h in self._hyst)
        if decided == 0:
            return None
        speech = np.empty((decided, self.channels), dtype=bool)
        for ch, hyst in enumerate(self._hyst):
            speech[:, ch] = hyst.out[:decided]
            del hyst.out[:decided]
        out = DecidedFrames(
            start_index=self._emitted,
            frame_s=self.frame_s,
            speech=speech,
            energy_db=self._pending_energy[:decided],
            pcm=self._pending_pcm[:decided],
        )
        self._pending_pcm = self._pending_pcm[decided:]
        self._pending_energy = self._pending_energy[decided:]
        self._emitted += decided
        return out
