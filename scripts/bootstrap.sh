#!/usr/bin/env bash
# Everything `make demo` and `make test` need on a fresh Debian/Ubuntu machine: the system
# packages (installed only when missing), a virtual environment, fraiseql with its extras.
# Usage: scripts/bootstrap.sh VENV_DIR EXTRAS [EXTRA_DEBIAN_PACKAGES...]
set -euo pipefail

venv=${1:?venv directory}
extras=${2:?extras, e.g. test,server}
shift 2
python=${PYTHON:-python3}

# pgbouncer: tests/test_pgbouncer.py runs the driver through a real one (transaction mode)
packages=(gcc make libpq-dev postgresql pgbouncer "$@")

missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Python headers and venv support matter only for Debian's own interpreter.
if ! "$python" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
    missing+=(python3-dev)
fi
if ! "$python" -c 'import ensurepip' 2>/dev/null; then
    missing+=(python3-venv)
fi

if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
    echo "bootstrap: fraiseql needs Python 3.10 or newer, $python is $("$python" --version)" >&2
    exit 1
}

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip setuptools wheel
"$venv/bin/python" -m pip install -q -e ".[$extras]"
