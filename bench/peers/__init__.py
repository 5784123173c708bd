"""Plain scripts a competent engineer would write for two of the jobs, with the ``jira``
package and ``slack_sdk`` and nothing of this project: `make bench` runs them on the same
desk as the jobs, as their own processes, and prints the project's figures against theirs.

Each does its job's work for one run as of ``--now`` (the same reads, the same decisions on
the benchmark desk's defaults, the same kind of Slack messages or replies), without what a
scheduled service adds: no ledger (so no dedup across runs, no crash recovery), no
settings file, no quiet hours, no decision log, no report.
"""
