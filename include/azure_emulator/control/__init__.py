"""The control endpoint (``/_emulator``): list and reset state, inject faults, tune durations, read
the request log. For tests, benchmarks and demos; Azure has no such API.
"""

from __future__ import annotations

from azure_emulator.control.routes import router

__all__ = ["router"]
