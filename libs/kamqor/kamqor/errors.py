"""Domain errors raised by use cases; mapped to gRPC status in one place (`grpcserver`)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of the errors a use case may raise on purpose."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # A stable, specific reason (e.g. "shelter-full") becomes the problem `type` at the gateway.
        if code is not None:
            self.code = code


class NotFound(DomainError):
    code = "not-found"


class Invalid(DomainError):
    """Bad input; `field` names the offending field as the client spelled it."""

    code = "invalid"

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(f"{field}: {message}", code=code)
        self.field = field
        self.reason = message


class Conflict(DomainError):
    code = "conflict"


class Forbidden(DomainError):
    code = "forbidden"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Aborted(DomainError):
    """A concurrent change won; the same request may simply be retried."""

    code = "aborted"


class Unavailable(DomainError):
    """A dependency is down; not the caller's fault."""

    code = "unavailable"
