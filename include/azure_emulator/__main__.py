"""``python -m azure_emulator``: run the local Azure cloud (include/ must be on the path)."""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

from .server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m azure_emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--data-dir", type=Path, default=Path("var/emulator"),
                        help="where state (SQLite), the CA and keys live; reuse it to continue after a restart")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="emulated time runs this many times faster than real time")
    parser.add_argument("--ready-file", type=Path, help="write the connection document (JSON) here when ready")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    if not (math.isfinite(args.speed) and args.speed > 0):
        parser.error(f"--speed must be a finite positive number, not {args.speed}")
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be between 0 and 65535, not {args.port}")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(args.data_dir.resolve(), args.port, args.speed, args.ready_file.resolve() if args.ready_file else None,
          args.log_level)


if __name__ == "__main__":
    main()
