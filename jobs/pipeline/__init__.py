"""The staged pipeline every job runs through; see `jobs.pipeline.run`."""

from jobs.pipeline.run import EXIT_CREDENTIALS, ClockMovedBack, Pipeline, unique

__all__ = ["EXIT_CREDENTIALS", "ClockMovedBack", "Pipeline", "unique"]
