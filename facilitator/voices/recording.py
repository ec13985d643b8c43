"""Recording a person's enrollment speech from any audio source: numbers in memory, never a file.

Used by ``facilitator enroll NAME --mic`` and by the app's enrollment screen. The source is read
until enough *speech* is heard (the session's voice activity detector counts it, so pauses and
silence do not) or a time limit is reached; ``on_progress`` is called about ten times a second.
No Textual and no printing here: the caller decides how progress is shown.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np

from facilitator.sources import downmix

# about 20 s read aloud at an easy pace, which gives ~15 s of detected speech
READ_ALOUD = ("When we talk in turns, each of us gets the same time to speak. I will listen until "
              "you have finished, and then it is my turn. Sometimes I have a lot to say, and sometimes "
              "only a little, and that is fine. We can look at the numbers together afterwards and "
              "see whether the balance is changing from week to week.")
SPEECH_TARGET_S = 15.0


@dataclass
class Progress:
    heard_s: float  # audio read so far
    speech_s: float  # of which detected as speech
    target_s: float | None  # speech wanted (None: record ``max_s`` of audio)
    level_dbfs: float  # the loudest 100 ms since the last report

    @property
    def fraction(self) -> float:
        return min(1.0, self.speech_s / self.target_s) if self.target_s else 0.0


def level_dbfs(block: np.ndarray) -> float:
    x = np.asarray(block, np.float32) / 32768.0
    return 20.0 * float(np.log10(max(float(np.sqrt(np.mean(x * x))) if len(x) else 0.0, 1e-5)))


def record(source, speech_target_s: float | None = None, max_s: float | None = None,
           on_progress: Callable[[Progress], None] | None = None,
           stop: threading.Event | None = None, report_every_s: float = 0.1, settings=None) -> np.ndarray:
    """Read ``source`` (downmixed to mono) into 16 kHz int16 until ``speech_target_s`` of speech is
    detected, ``max_s`` of audio is read, ``stop`` is set or the source ends; return the audio.

    The source is stopped at the end. Errors of the source (no device, a lost device) propagate.
    """
    from facilitator.settings import settings_from
    from facilitator.vad import SpeechDetector

    rate = source.sample_rate_hz
    detector = SpeechDetector(1, settings or settings_from("default"))
    blocks: list[np.ndarray] = []
    got = 0
    speech_frames = 0
    frame_s = detector.frame_s
    peak_db = -100.0
    since_report = 0
    every = max(1, int(report_every_s * rate))
    try:
        for block in source.blocks():
            mono = downmix(np.asarray(block).reshape(len(block), -1))[:, 0]
            if not len(mono):
                continue
            blocks.append(mono)
            got += len(mono)
            decided = detector.push(mono)
            if decided is not None:
                speech_frames += int(decided.speech.sum())
            for start in range(0, len(mono), every):  # loudest 100 ms, however long the block
                peak_db = max(peak_db, level_dbfs(mono[start:start + every]))
            since_report += len(mono)
            speech_s = speech_frames * frame_s
            done = ((speech_target_s is not None and speech_s >= speech_target_s)
                    or (max_s is not None and got >= max_s * rate)
                    or (stop is not None and stop.is_set()))
            if on_progress is not None and (since_report >= every or done):
                on_progress(Progress(got / rate, speech_s, speech_target_s, peak_db))
                peak_db, since_report = -100.0, 0
            if done:
                break
    finally:
        source.stop()
    return np.concatenate(blocks) if blocks else np.zeros(0, np.int16)
