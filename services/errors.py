"""One base error with an HTTP status; the API renders it, tasks and tools read its message."""


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Unauthorized(DomainError):
    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class InvalidInput(DomainError):
    """Well-formed request, unacceptable content (a wrong answer format, an unknown type)."""

    status_code = 422
