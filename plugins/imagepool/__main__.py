"""``python -m imagepool validate|plan SPEC...`` (with plugins/ on the path; see ``make plan``)."""

from __future__ import annotations

from imagepool.cli import main

raise SystemExit(main())
