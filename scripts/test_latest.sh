#!/usr/bin/env bash
# The test suite on the newest release of every dependency, ignoring constraints.txt: what the
# scheduled `latest-dependencies` workflow runs, so an upstream release that breaks us is seen
# before users meet it. Green? Adopt the versions: .venv-latest/bin/python scripts/pin_constraints.py
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv-latest}
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip hatchling
"$venv/bin/python" -m pip install -q --upgrade --upgrade-strategy eager -e '.[test]'
"$venv/bin/python" -m pip list --format=freeze | sed 's/^/installed: /'
"$venv/bin/python" -m pytest "$@"
