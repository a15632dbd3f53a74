"""``python -m imagepool validate|plan SPEC...`` (with plugins/ on the path; see ``make plan``)."""

from .cli import main

raise SystemExit(main())
