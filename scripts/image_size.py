"""Estimate what the runtime image adds to its slim base, from installed sizes (no Docker).

    python scripts/image_size.py        # `make image-size`; needs the package index, ~1 minute

Does what the Dockerfile's builder stage does, in a temporary directory, with this Python
(use the image's Python minor version, 3.11): a virtualenv without pip, requirements.lock
installed with --require-hashes and wheels only, then scripts/slim-venv.sh. It then adds up
the bytes of every file the runtime stage copies (the virtualenv, ``jobs/``, ``config/``) and
prints the largest packages and the total against the budget of 250 MB over the base.

The base image itself (python:3.11.11-slim-bookworm) is not measured here; about 130 MB
uncompressed is the figure to add for the whole image. Files are counted by size in bytes
(not disk blocks), as image layers store them. Exits 1 over budget.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_MB = 250
BASE_MB_ESTIMATE = 130


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="image-size-") as folder:
        work = Path(folder)
        venv, app = work / "venv", work / "app"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        subprocess.run(
            [
                sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                "install", "--quiet", "--require-hashes", "--no-deps", "--only-binary=:all:",
                "-r", str(ROOT / "requirements.lock"),
            ],
            check=True,
        )  # fmt: skip
        app.mkdir()
        shutil.copytree(ROOT / "jobs", app / "jobs")
        subprocess.run(
            ["sh", str(ROOT / "scripts" / "slim-venv.sh"), str(venv), str(app)], check=True
        )
        site = next(venv.glob("lib/python3*/site-packages"))
        packages = sorted(((size_of(p), p.name) for p in site.iterdir()), reverse=True)
        parts = {
            "virtualenv": size_of(venv),
            "jobs/": size_of(app / "jobs"),
            "config/": size_of(ROOT / "config"),
        }
    total = sum(parts.values()) / 1e6
    print("largest installed packages (after slimming):")
    for size, name in packages[:12]:
        print(f"  {size / 1e6:7.1f} MB  {name}")
    for name, size in parts.items():
        print(f"{name:<12} {size / 1e6:7.1f} MB")
    verdict = "within" if total <= BUDGET_MB else "OVER"
    print(
        f"added to the slim base: {total:.1f} MB ({verdict} the {BUDGET_MB} MB budget); "
        f"whole image about {total + BASE_MB_ESTIMATE:.0f} MB with the base (~{BASE_MB_ESTIMATE} "
        "MB, not measured here)"
    )
    return 0 if total <= BUDGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
