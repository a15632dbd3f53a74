"""The emulator as a real process for tests: the same helpers ``make run`` uses."""

from __future__ import annotations

from imagepool_local.emulator import RunningEmulator, airflow_connection, start_emulator

__all__ = ["RunningEmulator", "airflow_connection", "start_emulator"]
