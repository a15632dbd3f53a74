"""The control endpoint (``/_emulator``): list and reset state, inject faults, tune durations, read
the request log. For tests, benchmarks and demos; Azure has no such API."""

from .routes import router

__all__ = ["router"]
