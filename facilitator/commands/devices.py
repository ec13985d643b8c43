"""``facilitator devices``: the input devices the microphone can use."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("devices", help="list audio input devices",
                       description="List the audio input devices (index, name, input channels, "
                                   "default sample rate); '*' marks the default input.")
    p.set_defaults(func=run)


def run(args) -> int:
    from facilitator.microphone import list_input_devices

    devices = list_input_devices()
    if not devices:
        print("no audio input devices found (is a microphone connected?)")
        return 1
    print(f"{'':1} {'index':>5}  {'channels':>8}  {'rate Hz':>7}  name")
    for dev in devices:
        mark = "*" if dev["default"] else " "
        print(f"{mark} {dev['index']:>5}  {dev['channels']:>8}  {dev['rate_hz']:>7.0f}  {dev['name']}")
    return 0
