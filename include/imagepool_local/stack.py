"""``make up`` / ``make down``: the local Azure cloud and ``airflow standalone`` in the background, to
watch and drive imagepool's DAGs in the Airflow UI.

``up`` starts both detached from the terminal, records their PIDs in the data dir, waits until
Airflow reports its metadatabase, scheduler, triggerer and DAG processor healthy and has parsed
every file in dags/ without import errors, then prints the URL, the login and where the logs are.
It unpauses nothing. ``down`` stops exactly the recorded processes and their children. Emulator
state, Airflow's database and the logs stay in the data dir: the next ``up`` continues from them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from imagepool_local.emulator import start_emulator
from imagepool_local.run import ROOT, airflow_env

HOST = "127.0.0.1"
USERNAME = "admin"
COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")
# Airflow's own defaults, used when free: two stacks on one machine must not share a log server port.
WORKER_LOG_PORT, TRIGGER_LOG_PORT = 8793, 8794
# ``airflow standalone`` stops its components on SIGINT only; the emulator commits as it goes. A triggerer
# is recorded apart only once it has been restarted (``restart_triggerer``); ``down`` stops them in this order.
STOP_SIGNALS = {"airflow": signal.SIGINT, "triggerer": signal.SIGTERM, "emulator": signal.SIGTERM}
STOP_GRACE = {"airflow": 60.0, "triggerer": 60.0, "emulator": 15.0}
DAGS_FOLDER = ROOT / "dags"
# SQLite takes one writer at a time: on a busy machine the API server can stall for tens of seconds.
API_TIMEOUT = 120.0


# --- processes, by PID --------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent PID, start time in clock ticks after boot) from /proc, or None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself contain spaces and parentheses.
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


@dataclass(frozen=True)
class Proc:
    """A process as recorded at start: the start time tells it apart from a later one that reuses its PID."""

    pid: int
    start: int

    @classmethod
    def of(cls, pid: int) -> Proc | None:
        stat = _stat(pid)
        return cls(pid, stat[2]) if stat else None

    def alive(self) -> bool:
        stat = _stat(self.pid)
        if stat is None or stat[2] != self.start:
            return False
        if stat[0] == "Z":
            # Exited; if it is this process's own child, reap it so it does not linger as a zombie.
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, os.WNOHANG)
            return False
        return True

    def send(self, sig: signal.Signals) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def cmdline(self) -> list[str]:
        return Path(f"/proc/{self.pid}/cmdline").read_bytes().decode().split("\0")[:-1]

    def parent(self) -> int | None:
        stat = _stat(self.pid)
        return stat[1] if stat else None

    def tree(self) -> set[Proc]:
        """This process and every live descendant."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (stat := _stat(int(entry.name))):
                children.setdefault(stat[1], []).append(int(entry.name))
        found, todo = {self}, [self.pid]
        while todo:
            for pid in children.get(todo.pop(), []):
                if (proc := Proc.of(pid)) and proc not in found:
                    found.add(proc)
                    todo.append(pid)
        return {proc for proc in found if proc.alive()}


def _wait_gone(watched: set[Proc], seconds: float) -> set[Proc]:
    """Wait until every watched process (and any child they start meanwhile) exits; return those still alive."""
    deadline = time.monotonic() + seconds
    while True:
        # Re-read the trees: a child started during shutdown would otherwise be orphaned unseen.
        watched = {proc for member in watched if member.alive() for proc in member.tree()}
        if not watched or time.monotonic() > deadline:
            return watched
        time.sleep(0.2)


def _stop(name: str, proc: Proc) -> None:
    if not proc.alive():
        print(f"{name} (pid {proc.pid}) had already exited")
        return
    family = proc.tree()
    proc.send(STOP_SIGNALS[name])
    left = _wait_gone(family, STOP_GRACE[name])
    # Only processes of this stack are escalated, each by PID.
    for escalation in (signal.SIGTERM, signal.SIGKILL):
        if not left:
            break
        print(
            f"{name}: {len(left)} process(es) still running; sending {escalation.name} to "
            f"{', '.join(str(p.pid) for p in sorted(left, key=lambda p: p.pid))}"
        )
        for member in left:
            member.send(escalation)
        left = _wait_gone(left, 10)
    print(f"stopped {name} (pid {proc.pid}" + (f" and {len(family) - 1} child processes)" if len(family) > 1 else ")"))
    if left:
        raise RuntimeError(f"{name}: processes {sorted(p.pid for p in left)} did not exit")


# --- the data dir -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StackDirs:
    root: Path

    @property
    def emulator(self) -> Path:
        return self.root / "emulator"

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    @property
    def standalone_log(self) -> Path:
        return self.root / "standalone.log"

    @property
    def state_file(self) -> Path:
        return self.root / "stack.json"

    def pid_file(self, name: str) -> Path:
        return self.root / f"{name}.pid"

    def recorded(self) -> dict[str, Proc]:
        """The processes of the last ``up`` whose PID files are still there."""
        found = {}
        for name in STOP_SIGNALS:
            path = self.pid_file(name)
            if path.exists():
                pid, start = path.read_text().split()
                found[name] = Proc(int(pid), int(start))
        return found

    def record(self, name: str, pid: int) -> None:
        proc = Proc.of(pid)
        if proc is None:
            raise RuntimeError(f"{name} (pid {pid}) exited as soon as it started")
        self.pid_file(name).write_text(f"{proc.pid} {proc.start}\n")


# --- Airflow ------------------------------------------------------------------------------------------


class AirflowApi(requests.Session):
    """Airflow's REST API as the stack's admin, with paths under /api/v2: ``api.get("/dags")``.
    Every answer is checked: an error status raises with Airflow's explanation.
    """

    def __init__(self, url: str, username: str, password: str):
        super().__init__()
        self.url = url.rstrip("/")
        token = _check(
            requests.post(
                f"{self.url}/auth/token", json={"username": username, "password": password}, timeout=API_TIMEOUT
            )
        )
        self.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def request(self, method, path, *args, **kwargs):
        kwargs.setdefault("timeout", API_TIMEOUT)
        return _check(super().request(method, f"{self.url}/api/v2{path}", *args, **kwargs))


def _check(response: requests.Response) -> requests.Response:
    if not response.ok:
        raise RuntimeError(
            f"{response.request.method} {response.url}: HTTP {response.status_code}: {response.text[:2000]}"
        )
    return response


@dataclass
class Stack:
    dirs: StackDirs
    url: str
    speed: float

    @property
    def password(self) -> str:
        """SimpleAuthManager's generated password for ``admin`` (written on Airflow's first start)."""
        return json.loads((self.dirs.airflow_home / "simple_auth_manager_passwords.json.generated").read_text())[
            USERNAME
        ]

    @property
    def emulator(self) -> dict:
        """The emulator's ready document (endpoints, credentials, CA bundle)."""
        return json.loads((self.dirs.emulator / "ready.json").read_text())

    def api(self) -> AirflowApi:
        return AirflowApi(self.url, USERNAME, self.password)

    def save(self) -> None:
        self.dirs.state_file.write_text(json.dumps({"url": self.url, "speed": self.speed}))

    @classmethod
    def load(cls, dirs: StackDirs) -> Stack:
        state = json.loads(dirs.state_file.read_text())
        return cls(dirs, state["url"], state["speed"])

    def describe(self) -> str:
        def shown(path: Path) -> str:
            return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)

        dags = self.api().get("/dags", params={"limit": 100, "order_by": "dag_id"}).json()["dags"]
        return "\n".join(
            [
                f"Airflow UI: {self.url}",
                f"  login:   {USERNAME} / {self.password}",
                "  DAGs:    " + ", ".join(f"{d['dag_id']} ({'paused' if d['is_paused'] else 'on'})" for d in dags),
                "           (switch a DAG on in the UI, then trigger it; nothing runs on a schedule here)",
                f"  Azure:   the local Azure cloud at {self.emulator['arm_endpoint']} (speed x{self.speed:g})",
                f"  logs:    {shown(self.dirs.standalone_log)} (Airflow's components)",
                f"           {shown(self.dirs.airflow_home / 'logs')} (task logs, also in the UI)",
                f"           {shown(self.dirs.emulator / 'emulator.log')} (the local Azure cloud)",
                "  stop:    make down",
            ]
        )


def _free_port(preferred: int) -> int:
    """``preferred`` if nothing listens on it (0: any free port)."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket() as probe:
            # As the servers themselves do: a port whose old connections linger in TIME_WAIT is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free TCP port on the loopback interface")


def stack_env(
    dirs: StackDirs,
    info: dict,
    speed: float,
    *,
    port: int,
    parallelism: int,
    dags_folder: Path = DAGS_FOLDER,
    schedules: bool = False,
) -> dict[str, str]:
    """``make run``'s settings (the project's DAGs and plugins, the emulator's connection, scaled polling),
    plus what a long-running local Airflow needs.
    """
    url = f"http://{HOST}:{port}"
    return {
        **airflow_env(dirs.airflow_home, info, speed),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        # LocalExecutor starts one worker per parallelism slot: a few suit a laptop or a small CI machine.
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        # Each component loads the imagepool plugin when it starts: the scheduler imports the library
        # and the Azure SDKs before it forks its LocalExecutor workers, and every task process forked
        # from them starts with them (plugins/imagepool_plugin.py).
        "AIRFLOW__CORE__LAZY_LOAD_PLUGINS": "False",
        # Only runs someone triggers, unless asked: a nightly schedule would start a run the moment its DAG is
        # switched on, and the run triggered from the form would queue behind it (one active run per DAG).
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(schedules),
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(port),
        # Workers reach the execution API through this too; its default assumes port 8080.
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port(WORKER_LOG_PORT)),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port(TRIGGER_LOG_PORT)),
    }


def _default_sigint() -> None:
    # A process started from a non-interactive shell's background job inherits SIGINT ignored, and
    # ``airflow standalone`` shuts its components down only on SIGINT: make sure it receives it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _tail(path: Path, lines: int = 40) -> str:
    return "".join(path.read_text(errors="replace").splitlines(keepends=True)[-lines:]) if path.exists() else ""


def _not_ready(stack: Stack, started: datetime, dags_folder: Path = DAGS_FOLDER) -> str | None:
    """What Airflow still lacks, or None once it is ready. Raises on import errors in dags/."""
    try:
        health = requests.get(f"{stack.url}/api/v2/monitor/health", timeout=API_TIMEOUT).json()
        # Workers call the execution API, which builds its versioned routes on its first request: seconds
        # of CPU during which the API server answers nobody, on a busy machine long enough for the first
        # task of the first run to give up (and wait for its retry). Its health check pays for that here.
        execution = requests.get(f"{stack.url}/execution/health", timeout=API_TIMEOUT)
    except (requests.ConnectionError, requests.Timeout, ValueError):
        return "the API server does not answer yet"
    waiting = [c for c in COMPONENTS if (health.get(c) or {}).get("status") != "healthy"]
    if not execution.ok:
        waiting.append("the execution API")
    if waiting:
        return f"waiting for {', '.join(waiting)} to be healthy"
    api = stack.api()
    # Errors and parse times from before this start describe older code: only fresh ones count.
    errors = [
        e
        for e in api.get("/importErrors", params={"limit": 100}).json()["import_errors"]
        if datetime.fromisoformat(e["timestamp"]) >= started
    ]
    if errors:
        raise RuntimeError(
            "DAG files failed to import:\n" + "\n".join(f"{e['filename']}:\n{e['stack_trace']}" for e in errors)
        )
    dags = [
        d
        for d in api.get("/dags", params={"limit": 100}).json()["dags"]
        if not d["is_stale"] and d["last_parsed_time"] and datetime.fromisoformat(d["last_parsed_time"]) >= started
    ]
    missing = sorted({p.name for p in dags_folder.glob("*.py")} - {d["relative_fileloc"] for d in dags})
    if missing:
        return f"waiting for {', '.join(missing)} to be parsed"
    return None


def up(
    data_dir: Path,
    *,
    speed: float = 60,
    port: int = 8080,
    parallelism: int = 4,
    timeout: float = 300,
    dags_folder: Path = DAGS_FOLDER,
    schedules: bool = False,
) -> Stack:
    """Start the stack in the background (or find it running) and return it once it is ready.

    :param port: the Airflow UI and API port if it is free, otherwise (and for 0) any free port.
    :param timeout: seconds to wait for Airflow to be ready; on failure everything started is stopped.
    :param dags_folder: the DAG files to load (default: the project's dags/).
    :param schedules: let the scheduler start the DAGs' scheduled runs (off by default: see ``stack_env``).
    """
    dirs = StackDirs(data_dir.resolve())
    recorded = dirs.recorded()
    if recorded and all(proc.alive() for proc in recorded.values()) and dirs.state_file.exists():
        print("the stack is already running")
        return Stack.load(dirs)
    if recorded:
        print("a process of the last stack has exited: stopping the rest and starting again")
        down(data_dir)
    dirs.root.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    started = datetime.now(UTC) - timedelta(seconds=1)
    ready_file = dirs.emulator / "ready.json"
    # The same port as last time when free: a run deferred before ``down`` keeps the endpoints it was given.
    previous = json.loads(ready_file.read_text())["port"] if ready_file.exists() else 0
    emulator = start_emulator(dirs.emulator, speed=speed, port=_free_port(previous) if previous else 0, detach=True)
    dirs.record("emulator", emulator.process.pid)
    try:
        stack = Stack(dirs, f"http://{HOST}:{_free_port(port)}", speed)
        env = stack_env(
            dirs,
            emulator.info,
            speed,
            port=int(stack.url.rsplit(":", 1)[1]),
            parallelism=parallelism,
            dags_folder=dags_folder,
            schedules=schedules,
        )
        migrate = subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if migrate.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{migrate.stdout[-3000:]}{migrate.stderr[-3000:]}")
        with open(dirs.standalone_log, "ab") as log:
            standalone = subprocess.Popen(
                [sys.executable, "-m", "airflow", "standalone"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_default_sigint,  # noqa: PLW1509 (only resets a signal; no lock is taken)
            )
        dirs.record("airflow", standalone.pid)
        print(f"starting Airflow at {stack.url} (log: {dirs.standalone_log}) ...", flush=True)
        deadline = time.monotonic() + timeout
        while (problem := _not_ready(stack, started, dags_folder)) is not None:
            for name, process in (("airflow standalone", standalone), ("the emulator", emulator.process)):
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n{_tail(dirs.standalone_log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Airflow not ready after {timeout:.0f} s ({problem}):\n{_tail(dirs.standalone_log)}"
                )
            time.sleep(1)
        stack.save()
        print(f"ready in {time.monotonic() - began:.0f} s")
        return stack
    except BaseException:
        down(data_dir)
        raise


def _triggerer(dirs: StackDirs) -> Proc:
    """The stack's triggerer: the one a restart recorded, else the one ``airflow standalone`` started."""
    recorded = dirs.recorded()
    if "triggerer" in recorded:
        return recorded["triggerer"]
    standalone = recorded["airflow"]
    for proc in standalone.tree():
        if proc.parent() == standalone.pid and proc.cmdline()[-1:] == ["triggerer"]:
            return proc
    raise RuntimeError(f"airflow standalone (pid {standalone.pid}) runs no triggerer")


def restart_triggerer(data_dir: Path) -> Proc:
    """Stop the stack's triggerer and start another with the same command line, environment and working
    directory, as a deploy restarts one: ``airflow standalone`` never restarts a component that exits.
    The new one logs to ``triggerer.log`` in the data dir, and ``down`` stops it. Returns it.
    """
    dirs = StackDirs(data_dir.resolve())
    old = _triggerer(dirs)
    command = old.cmdline()
    environ = Path(f"/proc/{old.pid}/environ").read_bytes().decode().split("\0")[:-1]
    cwd = os.readlink(f"/proc/{old.pid}/cwd")
    _stop("triggerer", old)
    with open(dirs.root / "triggerer.log", "ab") as log:
        new = subprocess.Popen(
            command,
            env=dict(entry.split("=", 1) for entry in environ),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    dirs.record("triggerer", new.pid)
    return dirs.recorded()["triggerer"]


def down(data_dir: Path) -> None:
    """Stop the processes recorded by ``up`` (Airflow first: its tasks and triggers talk to the emulator)."""
    dirs = StackDirs(data_dir.resolve())
    recorded = dirs.recorded()
    if not recorded:
        print("the stack is not running")
    for name, proc in recorded.items():
        _stop(name, proc)
        dirs.pid_file(name).unlink()
    dirs.state_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m imagepool_local.stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument(
        "--data-dir", type=Path, default=ROOT / "var" / "stack", help="emulator state, Airflow home, logs and PID files"
    )
    parser.add_argument("--speed", type=float, default=60.0, help="emulated time runs this many times faster")
    parser.add_argument("--port", type=int, default=8080, help="Airflow UI port if free (0: any free port)")
    parser.add_argument("--parallelism", type=int, default=4, help="tasks running at once (LocalExecutor workers)")
    args = parser.parse_args(argv)
    if args.command == "down":
        down(args.data_dir)
        return 0
    try:
        stack = up(args.data_dir, speed=args.speed, port=args.port, parallelism=args.parallelism)
    except RuntimeError as exc:
        print(f"make up failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # what was started is stopped already
        return 130
    print(stack.describe())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
