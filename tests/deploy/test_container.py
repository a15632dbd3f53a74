"""The image's entrypoint (imagepool_local.container): the emulator's connection and polling for the
command it runs, and the secrets and passwords the Airflow containers share.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from imagepool_local.container import (
    READY_FILE_VARIABLE,
    SHARED_SECRETS,
    command_environment,
    ensure_passwords,
    ensure_shared_secrets,
    main,
)
from imagepool_local.emulator import airflow_connection

ROOT = Path(__file__).resolve().parents[2]
# A ready document as the emulator writes one (only the fields a connection is built from, and its speed).
INFO = {
    "client_id": "5c0ffee0-0000-4000-8000-0000000a0001",
    "client_secret": "s3cret",
    "tenant_id": "72f988bf-0000-4000-8000-00000000e1d0",
    "subscription_id": "00000000-0000-4000-8000-00000000cafe",
    "resource_group": "imagepool-rg",
    "arm_endpoint": "https://emulator:8443/",
    "arm_scope": "https://management.azure.com/.default",
    "authority_host": "https://emulator:8443",
    "batch_endpoint": "https://emulator:8443/batch/imagepoolbatch",
    "batch_scope": "https://batch.core.windows.net//.default",
    "ca_bundle": "/opt/emulator/ca.pem",
    "speed": 60.0,
}
EXPLICIT_CONNECTION = json.dumps({"conn_type": "azure", "extra": {"managed_identity_client_id": "mi"}})


@pytest.fixture
def ready_file(tmp_path) -> Path:
    path = tmp_path / "ready.json"
    path.write_text(json.dumps(INFO))
    return path


def test_the_ready_file_gives_the_connection_and_polling_scaled_to_the_emulator(ready_file):
    env = command_environment({READY_FILE_VARIABLE: str(ready_file), "PATH": "/usr/bin"})
    assert json.loads(env["AIRFLOW_CONN_AZURE_DEFAULT"]) == airflow_connection(INFO)
    # Azure-sized 15 s and 120 s, on a clock 60 times faster.
    assert (env["AIRFLOW__IMAGEPOOL__POLL_INTERVAL"], env["AIRFLOW__IMAGEPOOL__MAX_POLL_INTERVAL"]) == ("0.25", "2.0")
    assert env["PATH"] == "/usr/bin"


def test_settings_the_environment_gives_are_kept(ready_file):
    env = command_environment(
        {
            READY_FILE_VARIABLE: str(ready_file),
            "AIRFLOW_CONN_AZURE_DEFAULT": EXPLICIT_CONNECTION,
            "AIRFLOW__IMAGEPOOL__POLL_INTERVAL": "3",
        }
    )
    assert env["AIRFLOW_CONN_AZURE_DEFAULT"] == EXPLICIT_CONNECTION
    assert env["AIRFLOW__IMAGEPOOL__POLL_INTERVAL"] == "3"
    assert env["AIRFLOW__IMAGEPOOL__MAX_POLL_INTERVAL"] == "2.0"


def test_an_empty_connection_variable_counts_as_unset(ready_file):
    env = command_environment({READY_FILE_VARIABLE: str(ready_file), "AIRFLOW_CONN_AZURE_DEFAULT": ""})
    assert json.loads(env["AIRFLOW_CONN_AZURE_DEFAULT"]) == airflow_connection(INFO)


def test_without_a_ready_file_nothing_is_added_and_empty_connections_are_dropped():
    environ = {
        READY_FILE_VARIABLE: "",
        "AIRFLOW_CONN_AZURE_DEFAULT": "",
        "AIRFLOW_CONN_OTHER": EXPLICIT_CONNECTION,
        "HOME": "/opt/airflow",
    }
    assert command_environment(environ) == {
        READY_FILE_VARIABLE: "",
        "AIRFLOW_CONN_OTHER": EXPLICIT_CONNECTION,
        "HOME": "/opt/airflow",
    }


def test_a_ready_file_that_never_comes_names_the_fix(tmp_path):
    with pytest.raises(
        SystemExit,
        match=rf"no emulator ready file at {tmp_path}/ready.json after 0.2s.*"
        rf"set {READY_FILE_VARIABLE} empty",
    ):
        command_environment({READY_FILE_VARIABLE: str(tmp_path / "ready.json")}, timeout=0.2)


def test_the_entrypoint_runs_the_command_with_that_environment(ready_file):
    show = "import json, os; print(json.dumps({k: os.environ.get(k) for k in ('AIRFLOW_CONN_AZURE_DEFAULT', 'X')}))"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "include"), X="kept", **{READY_FILE_VARIABLE: str(ready_file)})
    env.pop("AIRFLOW_CONN_AZURE_DEFAULT", None)
    result = subprocess.run(
        [sys.executable, "-m", "imagepool_local.container", sys.executable, "-c", show],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert json.loads(seen["AIRFLOW_CONN_AZURE_DEFAULT"]) == airflow_connection(INFO)
    assert seen["X"] == "kept"


def test_the_entrypoint_without_a_command_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "usage: python -m imagepool_local.container (init | COMMAND [ARG...])" in capsys.readouterr().err


# --- init: what the Airflow containers share -----------------------------------------------------------


def secret_commands(directory: Path) -> dict[str, str]:
    return {variable: f"cat {directory / variable.lower()}" for variable in SHARED_SECRETS}


def test_shared_secrets_are_made_once_private_and_usable(tmp_path):
    commands = secret_commands(tmp_path / "shared")
    created = ensure_shared_secrets(commands)
    assert len(created) == len(SHARED_SECRETS)
    values = {path: path.read_text() for path in created}
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 and len(value) >= 32 for path, value in values.items())
    Fernet((tmp_path / "shared" / "airflow__core__fernet_key_cmd").read_text())
    assert len(set(values.values())) == len(values), "each setting gets its own secret"
    assert ensure_shared_secrets(commands) == []
    assert {path: path.read_text() for path in created} == values


def test_only_secrets_airflow_reads_from_files_are_made(tmp_path):
    commands = secret_commands(tmp_path)
    del commands["AIRFLOW__CORE__FERNET_KEY_CMD"]
    assert sorted(p.name for p in ensure_shared_secrets(commands)) == sorted(
        v.split("/")[-1] for v in commands.values()
    )


def test_a_secret_command_other_than_cat_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="cannot tell which file 'vault read x' reads; use 'cat /path/to/file'"):
        ensure_shared_secrets({"AIRFLOW__API_AUTH__JWT_SECRET_CMD": "vault read x"})


@pytest.fixture
def passwords_file(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "shared" / "passwords.json"
    monkeypatch.setenv(
        "AIRFLOW__CORE__AUTH_MANAGER", "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
    )
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin,ops:admin,watcher:viewer")
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(path))
    return path


def test_the_given_admin_password_goes_to_every_admin_and_others_get_one_generated(passwords_file):
    ensure_passwords("correct horse battery staple")
    passwords = json.loads(passwords_file.read_text())
    assert passwords["admin"] == passwords["ops"] == "correct horse battery staple"
    assert len(passwords["watcher"]) == 16
    assert stat.S_IMODE(passwords_file.stat().st_mode) == 0o600


def test_without_a_password_one_is_generated_printed_and_kept(passwords_file, capsys):
    ensure_passwords(None)
    first = json.loads(passwords_file.read_text())
    assert f"Password for user 'admin': {first['admin']}" in capsys.readouterr().out
    ensure_passwords(None)
    assert json.loads(passwords_file.read_text()) == first
    ensure_passwords("a new one")
    assert json.loads(passwords_file.read_text())["admin"] == "a new one"


def test_another_auth_manager_gets_no_passwords_file(passwords_file, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW__CORE__AUTH_MANAGER", "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
    )
    ensure_passwords("unused")
    assert not passwords_file.exists()
