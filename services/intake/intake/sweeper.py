"""The intake deadline sweeper: triage terms nearing or past due (INT-3, INT-7).

Each term is an obligation, so the kit's sweep over `obligations` covers them.
"""

from __future__ import annotations

from kamqor.runtime import standard_sweeper

SERVICE = "intake"
build = standard_sweeper(SERVICE)
