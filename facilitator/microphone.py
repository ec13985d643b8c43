"""The microphone edge: the only module that imports sounddevice (lazily, so replay needs no PortAudio).

The PortAudio callback only copies each block into a queue and counts overflows; the consumer blocks
on ``get(timeout=…)``. A device that rejects 16 kHz is opened at its own rate and resampled with soxr.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Iterator

import numpy as np

from facilitator.errors import UserError
from facilitator.settings import SAMPLE_RATE_HZ
from facilitator.sources import to_int16


class DeviceLost(UserError):
    """The input device stopped delivering audio (unplugged, or the sound server went away)."""


def _sounddevice():
    try:
        import sounddevice
    except OSError:
        raise UserError("live audio needs PortAudio: install it with 'sudo apt-get install libportaudio2' "
                        "(replay works without it)") from None
    return sounddevice


def list_input_devices() -> list[dict]:
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        default_in = sd.default.device[0]
    except Exception as exc:  # PortAudio errors when no host API works
        raise UserError(f"cannot list audio devices: {exc}") from None
    found = []
    for index, dev in enumerate(devices):
        if dev["max_input_channels"] > 0:
            found.append({"index": index, "name": dev["name"], "channels": dev["max_input_channels"],
                          "rate_hz": dev["default_samplerate"], "default": index == default_in})
    return found


def resolve_device(device: str | int | None):
    """A device index, a (part of a) name, or None for the default input; one clear line if unknown."""
    if device is None or device == "":
        return None
    if isinstance(device, int) or str(device).isdigit():
        index = int(device)
        if not any(d["index"] == index for d in list_input_devices()):
            raise UserError(f"no input device with index {index} (see 'facilitator devices')")
        return index
    matches = [d for d in list_input_devices() if str(device).lower() in d["name"].lower()]
    if not matches:
        raise UserError(f"no input device named {device!r} (see 'facilitator devices')")
    exact = [d for d in matches if d["name"].lower() == str(device).lower()]
    return (exact or matches)[0]["index"]


def _close_stream(stream, wait: bool) -> None:
    """Stop and close a stream; for a lost device in the background, so that a PortAudio call that
    blocks on the dead device (ALSA/PulseAudio can hang in stop) never delays the user's message."""
    def close() -> None:
        try:
            if wait:
                stream.stop()
            else:
                stream.abort()
        except Exception:
            pass
        try:
            stream.close()
        except Exception:
            pass

    if wait:
        close()
    else:
        threading.Thread(target=close, name="close-lost-microphone", daemon=True).start()


class MicrophoneSource:
    """Live input: int16 blocks ``(samples, channels)`` at 16 kHz, stream time from samples counted."""

    def __init__(self, device: str | int | None = None, channels: int = 1, block_ms: int = 30,
                 record_path: str | Path | None = None, get_timeout_s: float = 2.0):
        self.sd = _sounddevice()
        self.device = resolve_device(device)
        self.channels = channels
        self.sample_rate_hz = SAMPLE_RATE_HZ
        self.name = "microphone" if device is None else f"microphone-{device}"
        self.block_ms = block_ms
        self.record_path = Path(record_path) if record_path else None
        self.get_timeout_s = get_timeout_s
        self.overflows = 0
        self._queue: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self.device_rate_hz = self._pick_rate()

    def _pick_rate(self) -> int:
        sd = self.sd
        try:
            sd.check_input_settings(device=self.device, channels=self.channels,
                                    samplerate=SAMPLE_RATE_HZ, dtype="int16")
            return SAMPLE_RATE_HZ
        except Exception:
            pass
        try:
            info = sd.query_devices(self.device, "input")
        except Exception as exc:
            raise UserError(f"no usable input device ({exc})") from None
        if info["max_input_channels"] < self.channels:
            raise UserError(f"the input device '{info['name']}' has {info['max_input_channels']} "
                            f"channel(s); {self.channels} are needed (one per person)")
        return int(info["default_samplerate"])

    def _callback(self, indata, frames, time_info, status) -> None:
        if status.input_overflow:
            self.overflows += 1
        self._queue.put(indata.copy())

    def blocks(self) -> Iterator[np.ndarray]:
        sd = self.sd
        resampler = None
        dtype = "int16"
        if self.device_rate_hz != SAMPLE_RATE_HZ:
            import soxr

            dtype = "float32"
            resampler = soxr.ResampleStream(self.device_rate_hz, SAMPLE_RATE_HZ, self.channels,
                                            dtype="float32")
        recorder = self._open_recorder()
        try:
            stream = sd.InputStream(device=self.device, channels=self.channels,
                                    samplerate=self.device_rate_hz, dtype=dtype,
                                    blocksize=int(self.device_rate_hz * self.block_ms / 1000),
                                    callback=self._callback)
        except Exception as exc:
            raise UserError(f"cannot open the microphone: {exc}") from None
        lost = True  # unless the loop ends normally (stop(), or the consumer closes the generator)
        try:
            stream.start()
            while not self._stop.is_set():
                try:
                    block = self._queue.get(timeout=self.get_timeout_s)
                except queue.Empty:
                    if self._stop.is_set():
                        break
                    raise DeviceLost("the microphone stopped sending audio (unplugged?); the session "
                                     "so far is kept — reconnect it and resume") from None
                if resampler is not None:
                    block = to_int16(resampler.resample_chunk(block))
                if recorder is not None:
                    recorder.write(block)
                if len(block):
                    lost = False
                    yield block
                    lost = True
            lost = False
        except GeneratorExit:
            lost = False
            raise
        except DeviceLost:
            raise
        except UserError:
            raise
        except Exception as exc:  # PortAudioError mid-stream
            raise DeviceLost(f"the microphone failed: {exc}; the session so far is kept") from None
        finally:
            _close_stream(stream, wait=not lost)
            if recorder is not None:
                recorder.close()

    def _open_recorder(self):
        if self.record_path is None:
            return None
        import os

        import soundfile

        try:
            fd = os.open(self.record_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.close(fd)
            return soundfile.SoundFile(str(self.record_path), "w", samplerate=SAMPLE_RATE_HZ,
                                       channels=self.channels, subtype="PCM_16")
        except Exception as exc:
            raise UserError(f"cannot record to {self.record_path}: {exc}") from None

    def stop(self) -> None:
        self._stop.set()
