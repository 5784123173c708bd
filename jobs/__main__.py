import sys

from jobs.cli import run_process

sys.exit(run_process())
