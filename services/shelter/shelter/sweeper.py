"""The shelter's deadline sweeper: stays nearing or past their one-month end (SHL-1).

Stays are obligations like any other, so the kit's sweep over `obligations` covers them.
"""

from __future__ import annotations

from kamqor.runtime import standard_sweeper

SERVICE = "shelter"
build = standard_sweeper(SERVICE)
