"""Development-only stack: throwaway PostgreSQL, NATS JetStream and Keycloak.

Never imported by a deployable; tests and local runs only.
"""

from __future__ import annotations


class DevstackError(RuntimeError):
    """A dev-stack part could not start; the message is one line that says what to do."""
