"""``python -m emulators serve --desk emulators/fixtures/demo``: the emulated desk on loopback.

Prints the environment lines that point the jobs at it (and writes them to ``--env-file``),
then serves until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from emulators.fixtures import DEMO_DIR, FixtureError, load_desk
from emulators.stack import start_stack


def _parse_now(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulators")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start Jira, Slack and Sheets emulators")
    serve.add_argument("--desk", type=Path, default=DEMO_DIR, help="desk YAML file or directory")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port-jira", type=int, default=0)
    serve.add_argument("--port-slack", type=int, default=0)
    serve.add_argument("--port-sheets", type=int, default=0)
    serve.add_argument("--latency", type=float, default=0.0, help="seconds added to each answer")
    serve.add_argument(
        "--now", type=_parse_now, default=None, help="fix the clock (ISO time); default: wall clock"
    )
    serve.add_argument("--env-file", type=Path, default=None, help="also write the env lines here")
    args = parser.parse_args(argv)

    now = args.now or datetime.now(UTC)
    try:
        desk = load_desk(args.desk, now)
    except FixtureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ports = {"jira": args.port_jira, "slack": args.port_slack, "sheets": args.port_sheets}
    with start_stack(
        desk, now=args.now, latency=args.latency, host=args.host, ports=ports
    ) as stack:
        lines = [f"{key}={value}" for key, value in stack.env().items()]
        if args.env_file is not None:
            args.env_file.parent.mkdir(parents=True, exist_ok=True)
            args.env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print("\n".join(lines), flush=True)
        while not stopping.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
