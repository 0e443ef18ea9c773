"""The notify deadline sweeper: notices nearing or past 24 hours unacknowledged (SHL-3, NTF-7).

Each notice's term is an obligation, so the kit's sweep over `obligations` emits the
approaching (escalate before the due time, NTF-7) and overdue events.
"""

from __future__ import annotations

from kamqor.runtime import standard_sweeper

SERVICE = "notify"
build = standard_sweeper(SERVICE)
