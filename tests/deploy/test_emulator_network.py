"""The emulator beyond this machine's loopback, as docker-compose.yaml runs it: ``--host`` (where it
listens; 127.0.0.1 unless asked) and ``--hostname`` (the name in its certificate and ready file).
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from azure_emulator.tls import certificate_names
from imagepool.hooks.arm import ArmHook
from imagepool.hooks.connection import parse_connection
from imagepool_local.container import command_environment

ROOT = Path(__file__).resolve().parents[2]


def emulator_argv(data_dir: Path, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "azure_emulator",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        "--speed",
        "600",
        "--ready-file",
        str(data_dir / "ready.json"),
        *options,
    ]


def emulator_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT / "include"))


@contextmanager
def running_emulator(data_dir: Path, *options: str):
    """The emulator as its own process; yields its ready document."""
    data_dir.mkdir(parents=True, exist_ok=True)
    ready = data_dir / "ready.json"
    ready.unlink(missing_ok=True)
    with open(data_dir / "emulator.log", "ab") as log:
        process = subprocess.Popen(
            emulator_argv(data_dir, *options), stdout=log, stderr=subprocess.STDOUT, env=emulator_env()
        )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert process.poll() is None, (data_dir / "emulator.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the emulator wrote no ready file within 60 s"
            time.sleep(0.05)
        yield json.loads(ready.read_text())
    finally:
        process.terminate()
        process.wait(timeout=30)


def listening_addresses(port: int) -> set[str]:
    """The IPv4 addresses a local TCP socket listens on at ``port``, from the kernel's own table."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def health_by_name(info: dict, name: str, address: str) -> dict:
    """GET /_emulator/health at ``address``, verifying the certificate for ``name`` as a client resolving it would."""
    context = ssl.create_default_context(cafile=info["ca_bundle"])
    with socket.create_connection((address, info["port"]), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=name) as tls:
            tls.sendall(
                f"GET /_emulator/health HTTP/1.1\r\nHost: {name}:{info['port']}\r\nConnection: close\r\n\r\n".encode()
            )
            response = b""
            while chunk := tls.recv(65536):
                response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return json.loads(body)


def test_by_default_it_listens_on_loopback_only_and_names_127_0_0_1(tmp_path):
    with running_emulator(tmp_path / "data") as info:
        assert listening_addresses(info["port"]) == {"127.0.0.1"}
        assert info["arm_endpoint"] == f"https://127.0.0.1:{info['port']}/"
        assert certificate_names(tmp_path / "data" / "server-cert.pem") == {"127.0.0.1", "localhost"}


def test_host_sets_where_it_listens_and_by_default_the_name_too(tmp_path):
    # Another loopback address: proves the option is used without listening beyond this machine.
    with running_emulator(tmp_path / "data", "--host", "127.0.0.2") as info:
        assert listening_addresses(info["port"]) == {"127.0.0.2"}
        assert info["authority_host"] == f"https://127.0.0.2:{info['port']}"
        assert health_by_name(info, "127.0.0.2", "127.0.0.2")["status"] == "ok"


def test_hostname_goes_into_the_certificate_and_every_url_of_the_ready_file(tmp_path):
    with running_emulator(tmp_path / "data", "--hostname", "emulator") as info:
        base = f"https://emulator:{info['port']}"
        urls = [
            info["arm_endpoint"],
            info["authority_host"],
            info["batch_endpoint"],
            info["identity_endpoint"],
            info["control_endpoint"],
            *(a["endpoint"] for a in info["batch_accounts"]),
        ]
        assert all(url.startswith(base) for url in urls), urls
        assert {"emulator", "127.0.0.1", "localhost"} <= certificate_names(tmp_path / "data" / "server-cert.pem")
        assert health_by_name(info, "emulator", "127.0.0.1")["status"] == "ok"


def test_a_data_dir_whose_certificate_lacks_the_name_gets_a_new_one(tmp_path):
    data = tmp_path / "data"
    with running_emulator(data):
        first_ca = (data / "ca.pem").read_bytes()
    with running_emulator(data, "--hostname", "emulator") as info:
        assert "emulator" in certificate_names(data / "server-cert.pem")
        renewed_ca = (data / "ca.pem").read_bytes()
        assert renewed_ca != first_ca
        assert health_by_name(info, "emulator", "127.0.0.1")["status"] == "ok"
    # A certificate that has the name is kept, so clients that loaded the CA keep trusting it.
    with running_emulator(data, "--hostname", "emulator"):
        assert (data / "ca.pem").read_bytes() == renewed_ca


def test_hooks_reach_it_by_name_through_the_connection_the_entrypoint_derives(tmp_path):
    with running_emulator(tmp_path / "data", "--hostname", "localhost") as info:
        env = command_environment({"IMAGEPOOL_EMULATOR_READY_FILE": str(tmp_path / "data" / "ready.json")})
        conn = json.loads(env["AIRFLOW_CONN_AZURE_DEFAULT"])
        assert conn["extra"]["arm_endpoint"] == f"https://localhost:{info['port']}/"

        class Connection:
            conn_id, conn_type, login, password = "azure_default", "azure", conn["login"], conn["password"]
            extra_dejson = conn["extra"]

        hook = ArmHook(settings=parse_connection(Connection()))
        ok, message = hook.test_connection()
        assert ok, message


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--host", "emulator"], "--host must be an IPv4 address such as 127.0.0.1 or 0.0.0.0, not 'emulator'"),
        (["--host", "::1"], "--host must be an IPv4 address"),
        (["--hostname", "bad name"], "--hostname must be a DNS name or an IP address, not 'bad name'"),
        (["--hostname", "-emulator"], "argument --hostname: expected one argument"),
        (["--hostname", "emulator_1"], "--hostname must be a DNS name or an IP address, not 'emulator_1'"),
    ],
)
def test_a_bad_host_or_hostname_is_a_usage_error(tmp_path, options, message):
    result = subprocess.run(
        emulator_argv(tmp_path / "data", *options),
        capture_output=True,
        text=True,
        env=emulator_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "data").exists()
