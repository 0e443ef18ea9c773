"""The plans deadline sweeper: measures whose agency has not designated a responsible person
within 2 working days (PLN-6), and any other plan obligation nearing or past its due time.

Each term is an obligation, so the kit's sweep over `obligations` emits the approaching and
overdue events that notify turns into reminders and escalations (NTF-3, NTF-7).
"""

from __future__ import annotations

from kamqor.runtime import standard_sweeper

SERVICE = "plans"
build = standard_sweeper(SERVICE)
