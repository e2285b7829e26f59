"""Expected errors: each says what is wrong and what to do. Anything else is masked."""

from __future__ import annotations

from graphql import GraphQLError


class ApiError(GraphQLError):
    """An expected error: shown to the client with its ``code`` in ``extensions``."""

    code = "BAD_REQUEST"

    def __init__(self, message: str, **extensions: object) -> None:
        super().__init__(message, extensions={"code": self.code, **extensions})


class BadIntervalError(ApiError):
    code = "BAD_INTERVAL"


class UnknownSymbolError(ApiError):
    code = "UNKNOWN_SYMBOL"


class UnknownSnapshotError(ApiError):
    code = "UNKNOWN_SNAPSHOT"


class BeforeFirstCommitError(UnknownSnapshotError):
    """``asOf`` a time before the table's first commit: the table held nothing then. Lists of
    events (alerts, quality results) answer empty; market data keeps the error."""


class LimitExceededError(ApiError):
    code = "LIMIT_EXCEEDED"


class BadCursorError(ApiError):
    code = "BAD_CURSOR"


class NotAuthenticatedError(ApiError):
    code = "UNAUTHENTICATED"


class ForbiddenError(ApiError):
    code = "FORBIDDEN"


class RateLimitedError(ApiError):
    code = "RATE_LIMITED"


class NotFoundError(ApiError):
    code = "NOT_FOUND"


class NoModelsError(ApiError):
    code = "NO_MODELS"


class BadArgumentError(ApiError):
    code = "BAD_ARGUMENT"


EXPECTED = (ApiError,)


def is_expected(error: BaseException | None) -> bool:
    return isinstance(error, ApiError)
