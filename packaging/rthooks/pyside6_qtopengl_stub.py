"""PyInstaller runtime hook: a stand-in for ``PySide6.QtOpenGL``, which the bundle leaves out.

pyqtgraph's PlotCurveItem imports ``PySide6.QtOpenGL`` when it is imported, but calls it only
when OpenGL drawing is switched on (``useOpenGL``), which DeskOps never does; the binding is
8.5 MB of the bundle. The stand-in comes from a finder placed *last* on ``sys.meta_path``, so
the real module wins whenever it is bundled, and nothing (not even PySide6) is imported until
someone imports QtOpenGL. Any use of the stand-in raises ImportError naming this file, so a
future pyqtgraph that really needs QtOpenGL fails loudly (``deskops --self-test`` draws a
chart to catch exactly that).
"""

import importlib.abc
import importlib.machinery
import sys
import types

_NAME = "PySide6.QtOpenGL"


class _MissingQtOpenGL(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise ImportError(
            f"{_NAME}.{name}: QtOpenGL is not in this DeskOps bundle (see "
            "packaging/rthooks/pyside6_qtopengl_stub.py and QT_MODULES_USED in deskops.spec)"
        )


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != _NAME:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):
        return _MissingQtOpenGL(spec.name)

    def exec_module(self, module):
        return None


sys.meta_path.append(_StandInFinder())
