#!/bin/sh
# Slim a virtualenv for the runtime image (the Dockerfile's builder stage, and
# scripts/image_size.py, which measures the result):
#
#   scripts/slim-venv.sh VENV APP     APP holds the `jobs` package
#
# - test suites, C/Cython sources, type stubs and translation sources go: nothing imports them;
# - all bytecode goes, then comes back only for the modules the jobs import
#   (scripts/warm_imports.py): a run starts from bytecode, the rest stays source.
set -eu
venv="$1"
app="$2"
here="$(cd "$(dirname "$0")" && pwd)"
site="$(echo "$venv"/lib/python3*/site-packages)"
test -d "$site" || { echo "slim-venv.sh: no site-packages under $venv" >&2; exit 1; }

find "$site" -depth -type d \( -name tests -o -name test -o -name __pycache__ \) -exec rm -rf {} +
find "$site" -type f \( -name '*.pyi' -o -name '*.c' -o -name '*.h' -o -name '*.pxd' \
    -o -name '*.pyx' -o -name '*.po' \) -delete
find "$app/jobs" -depth -type d -name __pycache__ -exec rm -rf {} +

cd "$app"
env -u PYTHONDONTWRITEBYTECODE PYTHONPATH="$app" MPLBACKEND=Agg MPLCONFIGDIR="$(mktemp -d)" \
    "$venv/bin/python" "$here/warm_imports.py"
