"""Serve the emulator over HTTPS (on loopback unless told otherwise) and announce it through the ready file."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
from pathlib import Path

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from azure_emulator.app import TRANSPORT_KEY, EmulatorApp
from azure_emulator.backend import Backend
from azure_emulator.settings import CloudMismatch
from azure_emulator.tls import ensure_certificates

LOOPBACK = "127.0.0.1"


class TransportAwareH11Protocol(H11Protocol):
    """Hands each request its connection so the ``drop`` fault can close it without an answer."""

    def connection_made(self, transport):  # type: ignore[override]
        super().connection_made(transport)
        inner = self.app

        async def app_with_transport(scope, receive, send):
            scope[TRANSPORT_KEY] = transport
            await inner(scope, receive, send)

        self.app = app_with_transport


def ready_document(backend: Backend, port: int, ca_bundle: Path, hostname: str = LOOPBACK) -> dict:
    s = backend.settings
    base = f"https://{hostname}:{port}"
    primary = s.batch_accounts[0]
    cloud = backend.cloud
    return {
        "cloud": cloud.name,
        "arm_endpoint": f"{base}/",
        "arm_scope": cloud.arm_scope,
        "metadata_endpoint": f"{base}/metadata/endpoints?api-version=2022-09-01",
        "batch_endpoint": f"{base}/batch/{primary.name}",
        "batch_scope": cloud.batch_scope,
        "batch_account": primary.name,
        "batch_account_key": primary.key,
        "batch_accounts": [
            {"name": a.name, "location": a.location, "endpoint": f"{base}/batch/{a.name}", "key": a.key}
            for a in s.batch_accounts
        ],
        "authority_host": base,
        "tenant_id": s.tenant_id,
        "client_id": s.client_id,
        "client_secret": s.client_secret,
        "client_certificate_path": str(backend.app_certificate.path),
        "federated_token_file": str(backend.federation.token_path),
        "managed_identity_client_id": s.managed_identity_client_id,
        "identity_endpoint": f"{base}/msi/token",
        "identity_header": s.identity_header,
        "subscription_id": s.subscription_id,
        "resource_group": s.resource_group,
        "location": s.location,
        "other_location": s.other_location,
        "subnet_id": s.subnet_id,
        "ca_bundle": str(ca_bundle),
        "ca_bundle_combined": str(ca_bundle.with_name("ca-combined.pem")),
        "control_endpoint": f"{base}/_emulator",
        "port": port,
        "pid": os.getpid(),
        "speed": backend.clock.speed,
        "data_dir": str(backend.data_dir),
    }


def serve(
    data_dir: Path,
    port: int,
    speed: float,
    ready_file: Path | None,
    log_level: str = "warning",
    *,
    host: str = LOOPBACK,
    hostname: str = LOOPBACK,
    cloud: str | None = None,
) -> None:
    """Listen on ``host``; clients reach it as ``hostname``, which its certificate and ready file name."""
    # Set-up problems are the caller's to fix: say which, without a traceback.
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SystemExit(f"azure emulator: cannot use data dir {data_dir}: {exc.strerror}") from None
    ca_bundle, cert, key = ensure_certificates(data_dir, (hostname,))
    try:
        backend = Backend(data_dir, speed, cloud)
    except CloudMismatch as exc:
        raise SystemExit(f"azure emulator: --cloud {cloud}: {exc}") from None
    # IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on connections it knows are TCP, and with
    # Nagle on every answer written in two parts waits for the client's delayed ACK (40 ms on Linux).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        backend.store.close()
        raise SystemExit(f"azure emulator: cannot listen on {host}:{port}: {exc.strerror}") from None
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        EmulatorApp(backend),
        log_level=log_level,
        lifespan="off",
        http=TransportAwareH11Protocol,
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)

    async def main():
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                await task
                return
            await asyncio.sleep(0.02)
        if ready_file:
            tmp = ready_file.with_suffix(ready_file.suffix + ".tmp")
            tmp.write_text(json.dumps(ready_document(backend, bound_port, ca_bundle, hostname), indent=2))
            tmp.chmod(0o600)
            tmp.replace(ready_file)
        logging.getLogger("azure_emulator").warning(
            "azure emulator ready on https://%s:%s (%s, listening on %s, speed %s, data %s)",
            hostname,
            bound_port,
            backend.cloud.name,
            host,
            speed,
            data_dir,
        )
        await task

    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    finally:
        backend.store.close()
