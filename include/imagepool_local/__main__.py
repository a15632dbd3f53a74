"""``python -m imagepool_local``: see :mod:`imagepool_local.run`."""

from __future__ import annotations

from imagepool_local.run import main

raise SystemExit(main())
