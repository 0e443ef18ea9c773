"""The registry's deadline sweeper: decisions not sent within 7 working days or not entered
within 3 (REG-4, REG-6), and repeat reviews nearing their 6-month limit (REG-3).

Each term is an obligation, so the kit's sweep over `obligations` emits the approaching and
overdue events that notify turns into reminders and escalations (NTF-6, NTF-7).
"""

from __future__ import annotations

from kamqor.runtime import standard_sweeper

SERVICE = "registry"
build = standard_sweeper(SERVICE)
