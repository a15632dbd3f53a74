"""The emulator's own certificate authority (trustme), generated once into the data dir.

Clients trust ``ca.pem`` (the ``ca_bundle`` of the ready file); ``ca-combined.pem`` adds the public
roots for processes that talk to the emulator and to real endpoints through one bundle variable.
"""

from __future__ import annotations

from pathlib import Path

import certifi
import trustme


def ensure_certificates(data_dir: Path) -> tuple[Path, Path, Path]:
    """Return (ca_bundle, server_certificate_chain, server_key), creating them on first use."""
    ca_path = data_dir / "ca.pem"
    cert_path = data_dir / "server-cert.pem"
    key_path = data_dir / "server-key.pem"
    combined = data_dir / "ca-combined.pem"
    if not (ca_path.exists() and cert_path.exists() and key_path.exists()):
        ca = trustme.CA(organization_name="imagepool local Azure")
        leaf = ca.issue_cert("127.0.0.1", "localhost")
        ca.cert_pem.write_to_path(str(ca_path))
        leaf.private_key_pem.write_to_path(str(key_path))
        cert_path.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        key_path.chmod(0o600)
    combined.write_bytes(Path(certifi.where()).read_bytes() + b"\n" + ca_path.read_bytes())
    return ca_path, cert_path, key_path
