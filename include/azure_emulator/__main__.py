"""``python -m azure_emulator``: run the local Azure cloud (include/ must be on the path)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import math
import re
from pathlib import Path

from azure_emulator.clouds import ALIASES, CLOUDS
from azure_emulator.server import LOOPBACK, serve

# A DNS name (a compose service, a host name) or an IPv4 address: what a certificate and a URL can carry.
LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){LABEL}(\.{LABEL})*$")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m azure_emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port (0 = any free port)")
    parser.add_argument(
        "--host",
        default=LOOPBACK,
        help="IPv4 address to listen on (default: 127.0.0.1, this machine only); 0.0.0.0 serves "
        "other containers too, and anyone else who can reach the address",
    )
    parser.add_argument(
        "--hostname",
        help="the name clients reach it by (e.g. a compose service): added to its certificate and "
        "used in the ready file's URLs; default: the --host address (127.0.0.1 for 0.0.0.0)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path("var/emulator"),
        help="where state (SQLite), the CA and keys live; reuse it to continue after a restart",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="emulated time runs this many times faster than real time"
    )
    parser.add_argument(
        "--cloud",
        type=str,
        help=f"the Azure cloud to play: {', '.join(CLOUDS)} (or the Azure CLI's names AzureCloud...); it decides "
        "the regions, token audiences and Batch domain; fixed when the data dir is made (default: the data dir's "
        "cloud, AzurePublicCloud for a new one)",
    )
    parser.add_argument("--ready-file", type=Path, help="write the connection document (JSON) here when ready")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    if not (math.isfinite(args.speed) and args.speed > 0):
        parser.error(f"--speed must be a finite positive number, not {args.speed}")
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be between 0 and 65535, not {args.port}")
    try:
        ipaddress.IPv4Address(args.host)
    except ValueError:
        parser.error(f"--host must be an IPv4 address such as 127.0.0.1 or 0.0.0.0, not {args.host!r}")
    if args.cloud is not None and args.cloud.lower() not in ALIASES:
        parser.error(f"--cloud must be one of {', '.join(CLOUDS)}, not {args.cloud!r}")
    if args.hostname is not None and not HOSTNAME.match(args.hostname):
        parser.error(f"--hostname must be a DNS name or an IP address, not {args.hostname!r}")
    hostname = args.hostname or (LOOPBACK if args.host == "0.0.0.0" else args.host)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(
        args.data_dir.resolve(),
        args.port,
        args.speed,
        args.ready_file.resolve() if args.ready_file else None,
        args.log_level,
        host=args.host,
        hostname=hostname,
        cloud=args.cloud,
    )


if __name__ == "__main__":
    main()
