"""The emulator's own certificate authority (trustme), generated once into the data dir.

Clients trust ``ca.pem`` (the ``ca_bundle`` of the ready file); ``ca-combined.pem`` adds the public
roots for processes that talk to the emulator and to real endpoints through one bundle variable.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import certifi
import trustme
from cryptography import x509

LOCAL_NAMES = ("127.0.0.1", "localhost")


def certificate_names(cert_path: Path) -> set[str]:
    """The DNS names and IP addresses a certificate (the first of a PEM chain) is valid for."""
    names = (
        x509.load_pem_x509_certificate(cert_path.read_bytes())
        .extensions.get_extension_for_class(x509.SubjectAlternativeName)
        .value
    )
    return {*names.get_values_for_type(x509.DNSName), *map(str, names.get_values_for_type(x509.IPAddress))}


def ensure_certificates(data_dir: Path, names: Iterable[str] = ()) -> tuple[Path, Path, Path]:
    """Return (ca_bundle, server_certificate_chain, server_key), creating them on first use.

    The server certificate is valid for 127.0.0.1, localhost and ``names``; a data dir whose certificate
    lacks one of them gets a new CA and certificate (the CA's key is not kept, so it cannot sign again).
    """
    wanted = dict.fromkeys([*LOCAL_NAMES, *names])
    ca_path = data_dir / "ca.pem"
    cert_path = data_dir / "server-cert.pem"
    key_path = data_dir / "server-key.pem"
    combined = data_dir / "ca-combined.pem"
    present = ca_path.exists() and cert_path.exists() and key_path.exists()
    if not (present and set(wanted) <= certificate_names(cert_path)):
        ca = trustme.CA(organization_name="imagepool local Azure")
        leaf = ca.issue_cert(*wanted)
        ca.cert_pem.write_to_path(str(ca_path))
        leaf.private_key_pem.write_to_path(str(key_path))
        cert_path.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        key_path.chmod(0o600)
    combined.write_bytes(Path(certifi.where()).read_bytes() + b"\n" + ca_path.read_bytes())
    return ca_path, cert_path, key_path
