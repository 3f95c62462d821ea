"""``Annotated`` dependencies of the gateway's own routes: its settings, and the admission of
the caller on its protected routes.

The admin check is the gateway's own rather than ``shared.kit.auth.scoped``: scoped() stands on
``CurrentPrincipal``, which verifies the token only, while the gateway's routes admit the caller
as the proxy does (token, active organisation, rate limit), so a deactivated organisation's
still-valid token gets no further here either."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security

from services.gateway.access.admission import Admission
from services.gateway.settings import GatewaySettings
from shared.kit.auth import bearer_scheme
from shared.kit.problems import Forbidden
from shared.kit.settings import settings_dependency
from shared.kit.tokens import Principal
from shared.programme.scopes import ORGANISATIONS_ADMIN

SettingsDep = Annotated[GatewaySettings, Depends(settings_dependency(GatewaySettings))]


def get_admission(request: Request) -> Admission:
    admission: Admission = request.app.state.admission
    return admission


AdmissionDep = Annotated[Admission, Depends(get_admission)]


async def admitted_principal(
    request: Request,
    admission: AdmissionDep,
    # Documents the bearer scheme in OpenAPI; admission itself reads the header.
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
