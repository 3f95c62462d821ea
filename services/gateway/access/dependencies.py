"""``Annotated`` dependencies for the gateway's own protected routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPBearer

from services.gateway.access.admission import Admission
from shared.kit.problems import Forbidden
from shared.kit.tokens import Principal
from shared.programme.scopes import ORGANISATIONS_ADMIN

# Documents the bearer scheme in OpenAPI; admission itself reads the header.
bearer_scheme = HTTPBearer(auto_error=False, description="Access token from POST /v1/auth/token")


def get_admission(request: Request) -> Admission:
    admission: Admission = request.app.state.admission
    return admission


AdmissionDep = Annotated[Admission, Depends(get_admission)]


async def admitted_principal(
    request: Request,
    admission: AdmissionDep,
    _credentials: Annotated[object, Security(bearer_scheme)],
) -> Principal:
    principal = await admission.admit(request.headers.get("authorization"))
    request.state.principal = principal
    return principal


async def organisations_admin(
    principal: Annotated[Principal, Depends(admitted_principal)],
) -> Principal:
    if ORGANISATIONS_ADMIN not in principal.scopes:
        raise Forbidden(f"this action needs the scope {ORGANISATIONS_ADMIN}")
    return principal


AdminPrincipal = Annotated[Principal, Depends(organisations_admin)]
