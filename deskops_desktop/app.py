"""Composition root of the desktop app (placeholder until the desktop shell lands)."""

from __future__ import annotations


def run_app(db_url: str | None = None) -> int:
    from deskops_desktop.views.main import run

    return run(db_url)
