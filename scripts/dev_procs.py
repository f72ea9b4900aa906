"""honcho for `make dev`, with time to shut down.

On Ctrl-C honcho sends SIGTERM and kills whatever still runs 5 s later, a constant it offers no option for.
Workers need their soft shutdown (``TASKLANE_WORKER_SOFT_SHUTDOWN_TIMEOUT``) to finish or hand back running
tasks, so the wait is that plus a margin; the rest is honcho's own command line.
"""

from __future__ import annotations

import sys

import honcho.manager
from honcho.command import main

from tasklane.settings import Settings, load_settings

honcho.manager.KILL_WAIT = load_settings(Settings).worker_soft_shutdown_timeout + 5

if __name__ == "__main__":
    sys.exit(main())
