"""The app's cycle collector runs on the GUI thread only (``views.main.collect_on_gui_thread``)."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from deskops_desktop.views.main import collect_on_gui_thread


class Cycle:
    def __init__(self) -> None:
        self.me = self
        self.collected_on: list[str] = []


def test_cycles_are_collected_by_the_gui_thread_timer(qtbot: QtBot, qapp: QApplication) -> None:
    threads: list[str] = []

    def note(_phase: str, _info: dict[str, int]) -> None:
        threads.append(threading.current_thread().name)

    collector = collect_on_gui_thread(qapp)
    try:
        assert not gc.isenabled()  # no collection can start on a worker thread
        made: list[weakref.ref[Cycle]] = []

        def allocate() -> None:  # a worker making far more than a generation's threshold
            for _ in range(5_000):
                made.append(weakref.ref(Cycle()))

        worker = threading.Thread(target=allocate, name="worker")
        worker.start()
        worker.join()
        assert all(ref() is not None for ref in made)  # the worker collected nothing
        gc.callbacks.append(note)
        qtbot.waitUntil(lambda: all(ref() is None for ref in made), timeout=10_000)
        assert threads
        assert set(threads) == {"MainThread"}
    finally:
        collector.timer.stop()
        if note in gc.callbacks:
            gc.callbacks.remove(note)
        gc.enable()
