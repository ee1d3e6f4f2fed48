#!/usr/bin/env bash
# Build the one-folder bundle dist/deskops/ from deskops.spec.
#
#   bash packaging/build_bundle.sh            # uses .venv (Linux/macOS: .venv/bin/python,
#                                             # Git Bash on Windows: .venv/Scripts/python.exe)
#   PYTHON=/path/to/python bash packaging/build_bundle.sh
#
# - Installs PyInstaller into that environment (the project's runtime dependencies must already
#   be installed there: `python -m pip install -e .`). The major version is pinned because
#   deskops.spec filters Qt plugins through a PyInstaller 6 internal.
# - No --clean: PyInstaller's cache of analysed binaries makes a rebuild on the same machine
#   take ~30 s instead of ~60 s; build/ and dist/ are ignored by git.
# - The full PyInstaller log goes to build/pyinstaller.log; its tail is printed on failure.
# - On Windows, the installer is built afterwards with Inno Setup:
#     iscc packaging\windows\deskops.iss
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then
    PYTHON=.venv/bin/python
  elif [ -x .venv/Scripts/python.exe ]; then
    PYTHON=.venv/Scripts/python.exe
  else
    echo "build_bundle: no .venv here: create it (python -m venv .venv, then" \
      ".venv/bin/python -m pip install -e .) or set PYTHON" >&2
    exit 2
  fi
fi

"$PYTHON" -m pip install --quiet --disable-pip-version-check "pyinstaller>=6.10,<7"

mkdir -p build
log=build/pyinstaller.log
started=$(date +%s)
if ! "$PYTHON" -m PyInstaller --noconfirm --log-level WARN deskops.spec >"$log" 2>&1; then
  echo "build_bundle: PyInstaller failed; the end of $log:" >&2
  tail -n 40 "$log" >&2
  exit 1
fi
elapsed=$(( $(date +%s) - started ))
size=$(du -sh dist/deskops | cut -f1)
echo "build_bundle: dist/deskops built in ${elapsed} s ($size)"
