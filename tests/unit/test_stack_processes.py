"""``make down`` stops exactly the processes ``make up`` recorded, children included, and only those."""

from __future__ import annotations

import subprocess
import sys

from imagepool_local.stack import Proc, StackDirs, down

# A stand-in for a recorded service: it starts a child and, like the emulator, stops it on SIGTERM.
SERVICE = """
import signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
def stop(*_):
    child.terminate()
    child.wait()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print(child.pid, flush=True)
time.sleep(120)
"""


def start_service() -> tuple[subprocess.Popen, Proc, Proc]:
    service = subprocess.Popen(
        [sys.executable, "-c", SERVICE], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    child = Proc.of(int(service.stdout.readline()))
    return service, Proc.of(service.pid), child


def test_down_stops_the_recorded_process_and_its_children_and_forgets_them(tmp_path, capsys):
    service, parent, child = start_service()
    dirs = StackDirs(tmp_path)
    dirs.record("emulator", service.pid)
    assert parent.tree() == {parent, child}

    down(tmp_path)

    assert not parent.alive()
    assert not child.alive()
    assert not dirs.pid_file("emulator").exists()
    down(tmp_path)
    assert capsys.readouterr().out.splitlines()[-1] == "the stack is not running"


def test_down_leaves_alone_a_process_that_reused_a_recorded_pid(tmp_path):
    service, parent, child = start_service()
    try:
        dirs = StackDirs(tmp_path)
        # The recorded process started at another time: this PID now belongs to someone else.
        dirs.pid_file("emulator").write_text(f"{parent.pid} {parent.start + 1}\n")

        down(tmp_path)

        assert parent.alive()
        assert child.alive()
        assert not dirs.pid_file("emulator").exists()
    finally:
        service.terminate()
        service.wait()
