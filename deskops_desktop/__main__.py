"""``python -m deskops_desktop`` behaves exactly like the ``deskops`` command."""

from deskops_desktop.cli import main

raise SystemExit(main())
