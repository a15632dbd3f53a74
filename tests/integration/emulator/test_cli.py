"""``python -m azure_emulator``: help, and set-up mistakes reported in one clear line instead of a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "include"))
    return subprocess.run(
        [sys.executable, "-m", "azure_emulator", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(ROOT),
        timeout=60,
        check=False,
    )


def test_help_describes_every_option():
    result = run_cli("--help")
    assert result.returncode == 0
    for option in ("--port", "--data-dir", "--speed", "--ready-file", "--log-level"):
        assert option in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--speed", "0"], "--speed must be a finite positive number, not 0.0"),
        (["--speed", "-2"], "--speed must be a finite positive number, not -2.0"),
        (["--speed", "nan"], "--speed must be a finite positive number, not nan"),
        (["--speed", "fast"], "argument --speed: invalid float value: 'fast'"),
        (["--port", "70000"], "--port must be between 0 and 65535, not 70000"),
        (["--log-level", "loud"], "argument --log-level: invalid choice: 'loud'"),
    ],
)
def test_bad_option_is_a_usage_error(tmp_path, args, message):
    result = run_cli("--data-dir", str(tmp_path / "data"), *args)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: python -m azure_emulator")
    assert message in result.stderr
    assert not (tmp_path / "data").exists()


def test_port_in_use_is_reported_without_a_traceback(tmp_path, info):
    result = run_cli("--data-dir", str(tmp_path / "data"), "--port", str(info["port"]))
    assert result.returncode == 1
    assert result.stderr.strip() == f"azure emulator: cannot listen on 127.0.0.1:{info['port']}: Address already in use"


def test_unusable_data_dir_is_reported_without_a_traceback(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_cli("--data-dir", str(blocker / "data"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"azure emulator: cannot use data dir {blocker / 'data'}: Not a directory"
