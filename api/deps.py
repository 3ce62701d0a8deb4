"""Request dependencies: a session that commits at the boundary, and the caller's identity."""

from collections.abc import Callable, Iterable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from api import rate_limit
from persistence.db import get_sessionmaker
from services.access import tenancy
from services.access.auth import Principal, authenticate_monitoring, authenticate_request
from services.access.rate_limit import RateLimited
from services.errors import Forbidden, InvalidInput
from settings import get_settings, is_loopback

T = TypeVar("T")


def get_session() -> Iterator[Session]:
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except DataError as exc:  # the request's values, refused by PostgreSQL: the client's error
        session.rollback()
        raise InvalidInput(_unstorable(exc)) from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _unstorable(exc: DataError) -> str:
    reasons = {
        "22003": "a number is out of range (ids go up to 2147483647)",
        "22001": "a text is too long",
    }
    reason = reasons.get(getattr(exc.orig, "sqlstate", None) or "")
    return f"invalid input: {reason or 'a value cannot be stored (text may not contain NUL)'}"


# "function" scope: commit before the response is sent, so a 2xx means the change is durable.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _within_limits(request: Request, session: Session, check: Callable[..., T]) -> T:
    """`check(session, limiter, token, client_ip=...)`, its RateLimited turned into a 429."""
    try:
        return check(
            session,
            rate_limit.limiter(request),
            _bearer(request),
            client_ip=rate_limit.client_ip(request),
        )
    except RateLimited as exc:
        raise rate_limit.too_many_requests(exc) from None


async def request_references(request: Request) -> list[tuple[str, Any]]:
    """The ids a request names, wherever it names them: path, query, a JSON object body or
    a form (each already read and cached by the route's own parsing, or small)."""
    # every value of a repeated parameter, not just the one a route happens to read
    sources: list[Iterable[tuple[str, Any]]] = [
        request.path_params.items(),
        request.query_params.multi_items(),
    ]
    content_type = request.headers.get("content-type", "")
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if content_type.startswith("application/json"):
            try:
                body = await request.json()
            except ValueError:  # the route answers malformed JSON itself
                body = None
            if isinstance(body, dict):
                sources.append(body.items())
        elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/")):
            sources.append((await request.form()).multi_items())
    return list(tenancy.references(*sources))


ReferencesDep = Annotated[list[tuple[str, Any]], Depends(request_references)]


def _authenticated(request: Request, session: Session) -> Principal:
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):  # checked already, before an upload's body (bearer_gate)
        return known
    return _within_limits(request, session, authenticate_request)


def get_principal(request: Request, session: SessionDep, refs: ReferencesDep) -> Principal:
    """The caller, within the API's rate limits: every /api/v1 route depends on this.
    Whatever the request names by id must belong to the caller's merchant (a 404 if not)."""
    principal = _authenticated(request, session)
    tenancy.check_references(session, principal, refs)
    return principal


async def bearer_gate(request: Request) -> bool:
    """api.uploads' gate for /api/v1 uploads: the bearer token, checked before the body."""

    def check() -> Principal:
        with get_sessionmaker()() as session:
            return _authenticated(request, session)

    request.state.principal = await run_in_threadpool(check)
    return True


def require_monitoring(request: Request, session: SessionDep) -> Principal | None:
    """/metrics and /stats: METRICS_TOKEN or an operator token, except for a local caller
    of a server on loopback without METRICS_TOKEN (Settings.metrics_open_locally). The
    operator, whose merchant /stats is limited to; None for the whole deployment."""
    if get_settings().metrics_open_locally and _local_unproxied(request):
        return None
    return _within_limits(request, session, authenticate_monitoring)


def require_deployment_monitoring(
    caller: Annotated[Principal | None, Depends(require_monitoring)],
) -> None:
    """/metrics counts every merchant's traffic: not for one merchant's operators."""
    if caller is not None and caller.merchant_id is not None:
        raise Forbidden("/metrics is deployment-wide: METRICS_TOKEN or a platform operator")


def _local_unproxied(request: Request) -> bool:
    """From this machine, and not relayed by a proxy running on it."""
    relayed = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    return not relayed and is_loopback(request.client.host if request.client else None)


def get_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    principal.require_admin()
    return principal


def get_platform_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    principal.require_platform_admin()
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
AdminDep = Annotated[Principal, Depends(get_admin)]  # the admin of a merchant, or of all
PlatformAdminDep = Annotated[Principal, Depends(get_platform_admin)]
MonitoringDep = Depends(require_monitoring)
MonitoringCallerDep = Annotated[Principal | None, Depends(require_monitoring)]
DeploymentMonitoringDep = Depends(require_deployment_monitoring)
