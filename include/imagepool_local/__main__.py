"""``python -m imagepool_local``: see :mod:`imagepool_local.run`."""

from .run import main

raise SystemExit(main())
