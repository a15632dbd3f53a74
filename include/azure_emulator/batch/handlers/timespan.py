"""ISO 8601 durations as Batch sends and prints them.

The Python SDK zero-pads (``PT15M00S``, ``PT01H30M00S``, ``PT05.5S``) while the service prints the
short form (``PT15M``), so parsing is lenient and formatting is minimal.
"""

from __future__ import annotations

import re

from azure_emulator.errors import batch_invalid_property

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)
_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


def parse(value, prop: str) -> float | None:
    """Seconds, None when absent; Batch's InvalidPropertyValue for anything that is not a duration."""
    if value is None:
        return None
    found = _DURATION.match(value) if isinstance(value, str) else None
    if not found or value.upper() in ("P", "PT") or value.upper().endswith("T"):
        raise batch_invalid_property(prop, f"The value '{value}' is not a valid ISO 8601 duration.")
    return sum(float(amount) * _UNITS[unit] for unit, amount in found.groupdict().items() if amount)


def format(seconds: float) -> str:
    days, rest = divmod(round(seconds, 3), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = "P" + (f"{int(days)}D" if days else "")
    clock = (f"{int(hours)}H" if hours else "") + (f"{int(minutes)}M" if minutes else "")
    if secs:
        clock += f"{secs:g}S"
    if clock:
        text += "T" + clock
    return text if text != "P" else "PT0S"
