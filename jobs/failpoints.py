"""Named crash points for the reliability suite (the 'killed between sent and recorded' tests).

``JOBS_FAILPOINT=after_send`` makes the process SIGKILL itself right after the first real
send, before the ledger records it: exactly the crash the exactly-once design must survive.
Unset in production, a failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_ACTIVE = os.environ.get("JOBS_FAILPOINT", "")


def failpoint(name: str) -> None:
    if _ACTIVE and _ACTIVE == name:
        os.kill(os.getpid(), signal.SIGKILL)
