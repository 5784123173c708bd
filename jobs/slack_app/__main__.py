"""``python -m jobs.slack_app [--http PORT] [--config PATH]``: the Slack listener."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jobs.slack_app",
        description="Take the desk's clicks on alerts (Socket Mode, or HTTP with --http).",
    )
    parser.add_argument("--http", type=int, metavar="PORT", help="listen over HTTP on PORT")
    parser.add_argument("--config", help="settings file (default: $JOBS_CONFIG)")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    from jobs.config import ConfigError, load_settings, resolve_config_path
    from jobs.logs import setup_logging
    from jobs.registry import all_jobs
    from jobs.slack_app import serve

    setup_logging(env)
    try:
        settings = load_settings(
            resolve_config_path(args.config, env),
            {n: j.spec.config_model for n, j in all_jobs().items()},
        )
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return serve(settings, env, http_port=args.http, out=sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
