"""Start and stop the emulator as a real process on loopback, as every client sees it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RunningEmulator:
    process: subprocess.Popen
    data_dir: Path
    ready_file: Path
    info: dict
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_emulator(data_dir: Path, *, speed: float = 600, port: int = 0, timeout: float = 30) -> RunningEmulator:
    data_dir.mkdir(parents=True, exist_ok=True)
    ready = data_dir / "ready.json"
    if ready.exists():
        ready.unlink()
    log_path = data_dir / "emulator.log"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "include"))
    log = open(log_path, "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "azure_emulator", "--port", str(port), "--data-dir", str(data_dir),
         "--speed", str(speed), "--ready-file", str(ready)],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(ROOT))
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None:
            raise RuntimeError(f"emulator exited with {process.returncode}: {log_path.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"emulator not ready after {timeout}s: {log_path.read_text()[-3000:]}")
        time.sleep(0.05)
    return RunningEmulator(process, data_dir, ready, json.loads(ready.read_text()), log_path)
