"""The entrypoint of the imagepool image (Dockerfile), which docker-compose.yaml runs every service from.

``python -m imagepool_local.container COMMAND [ARG...]`` runs COMMAND. When the environment's
``IMAGEPOOL_EMULATOR_READY_FILE`` names the local Azure cloud's ready file, COMMAND also gets the
``azure_default`` connection (``AIRFLOW_CONN_AZURE_DEFAULT``: the emulator as a custom cloud) and
the ``[imagepool]`` polling intervals scaled to the emulator's speed, each only where the
environment does not set it already. Empty, that variable adds nothing (real Azure). An empty
``AIRFLOW_CONN_*`` variable counts as unset, so that a connection kept in Airflow's database is
used: Airflow reads environment variables first, and an empty one is no connection.

``python -m imagepool_local.container init`` makes, once, what every Airflow container must agree
on: the Fernet key, the JWT secret and the API secret key, each in the file that its Airflow
``*_CMD`` variable reads (``cat FILE``), and the simple auth manager's passwords
(``AIRFLOW_ADMIN_PASSWORD`` for every admin if given, a generated one printed once otherwise).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography.fernet import Fernet

from imagepool_local.emulator import airflow_connection, polling_settings

READY_FILE_VARIABLE = "IMAGEPOOL_EMULATOR_READY_FILE"
# The compose file starts Airflow once the emulator is healthy; its ready file follows within moments.
READY_TIMEOUT_SECONDS = 60.0

# Settings the Airflow components must share, and how each is made. Without them every container
# would invent its own: tokens signed by one would be refused by the others.
SHARED_SECRETS: dict[str, Callable[[], str]] = {
    "AIRFLOW__CORE__FERNET_KEY_CMD": lambda: Fernet.generate_key().decode(),
    "AIRFLOW__API_AUTH__JWT_SECRET_CMD": lambda: secrets.token_urlsafe(64),
    "AIRFLOW__API__SECRET_KEY_CMD": lambda: secrets.token_urlsafe(32),
}


def read_ready_file(path: Path, timeout: float = READY_TIMEOUT_SECONDS) -> dict:
    """The emulator's ready file (written whole, by rename), waiting up to ``timeout`` seconds for it."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(
                f"imagepool: no emulator ready file at {path} after {timeout:g}s: is the emulator "
                f"running with --ready-file {path}? For real Azure, set {READY_FILE_VARIABLE} empty."
            )
        time.sleep(0.2)
    return json.loads(path.read_text())


def command_environment(environ: Mapping[str, str], timeout: float = READY_TIMEOUT_SECONDS) -> dict[str, str]:
    """The environment COMMAND runs with (see the module docstring)."""
    env = {name: value for name, value in environ.items() if not (name.startswith("AIRFLOW_CONN_") and not value)}
    ready_file = environ.get(READY_FILE_VARIABLE, "")
    if not ready_file:
        return env
    info = read_ready_file(Path(ready_file), timeout)
    derived = {"AIRFLOW_CONN_AZURE_DEFAULT": json.dumps(airflow_connection(info)), **polling_settings(info["speed"])}
    for name, value in derived.items():
        if not env.get(name):
            env[name] = value
    return env


def secret_file(command: str) -> Path:
    """The file an Airflow ``*_CMD`` setting reads; only ``cat FILE`` is understood."""
    words = shlex.split(command)
    if len(words) != 2 or words[0] != "cat":
        raise SystemExit(f"imagepool: cannot tell which file {command!r} reads; use 'cat /path/to/file'")
    return Path(words[1])


def ensure_shared_secrets(environ: Mapping[str, str]) -> list[Path]:
    """Create each missing secret file named by a ``*_CMD`` variable of ``environ``; returns the files created."""
    created = []
    for variable, make in SHARED_SECRETS.items():
        if not environ.get(variable):
            continue
        path = secret_file(environ[variable])
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Exclusive create: two inits racing keep the first value, never mix two.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
        created.append(path)
    return created


def ensure_passwords(admin_password: str | None) -> None:
    """Give every admin of the simple auth manager ``admin_password`` (if given), and let the manager
    generate and print a password for any user who has none. Nothing to do under another auth manager.
    """
    # Imported here, not at the top: every container start goes through this module, and only init needs Airflow.
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
    from airflow.configuration import conf

    if conf.get("core", "auth_manager").rsplit(".", 1)[-1] != SimpleAuthManager.__name__:
        return
    path = Path(SimpleAuthManager.get_generated_password_file())
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created private before Airflow writes to it (it would make it readable by everyone).
    path.touch(mode=0o600)
    if admin_password:
        passwords = json.loads(path.read_text() or "{}")
        passwords.update(
            {user.username: admin_password for user in SimpleAuthManager.get_users() if user.role.lower() == "admin"}
        )
        path.write_text(json.dumps(passwords) + "\n")
    SimpleAuthManager().init()


def init(environ: Mapping[str, str]) -> None:
    for path in ensure_shared_secrets(environ):
        print(f"imagepool: created {path}")
    ensure_passwords(environ.get("AIRFLOW_ADMIN_PASSWORD") or None)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m imagepool_local.container (init | COMMAND [ARG...])", file=sys.stderr)
        return 2
    if args == ["init"]:
        init(os.environ)
        return 0
    os.execvpe(args[0], args, command_environment(os.environ))


if __name__ == "__main__":
    raise SystemExit(main())
