"""``/v1/organisations``: the programme secretariat (scope ``organisations:admin``) registers
organisations, their client credentials and their staff users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status

from services.gateway.deps import AdmissionDep, organisations_admin
from services.gateway.organisations import service
from services.gateway.organisations.models import (
    ClientCredentialCreate,
    ClientCredentialIssued,
    ClientCredentialPublic,
    OrganisationCreate,
    OrganisationPublic,
    StaffUserCreate,
    StaffUserPublic,
)
from shared.kit.database import SessionDep
from shared.kit.pagination import Page, PageParamsDep
from shared.kit.problems import problem_responses
from shared.kit.routes import answer_retry
from shared.programme.organisations import OrgType

router = APIRouter(
    prefix="/v1/organisations",
    tags=["organisations"],
    responses=problem_responses(401, 403, 404, 422),
    # Every route here is the secretariat's: checked once for the router, not per signature.
    dependencies=[Depends(organisations_admin)],
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganisationPublic,
    responses={
        200: {"model": OrganisationPublic, "description": "Already registered with this body"},
        **problem_responses(409),
    },
    summary="Register an organisation (a retry with the same body answers 200 with it)",
)
def create_organisation(
    data: OrganisationCreate, session: SessionDep, response: Response
) -> OrganisationPublic:
    organisation, created = service.create_organisation(session, data)
    answer_retry(response, created)
    response.headers["Location"] = f"/v1/organisations/{organisation.id}"
    return OrganisationPublic.model_validate(organisation, from_attributes=True)


@router.get("", response_model=Page[OrganisationPublic], summary="List organisations")
def list_organisations(
    session: SessionDep,
    params: PageParamsDep,
    type: Annotated[OrgType | None, Query(description="Only organisations of this type")] = None,
) -> Page[OrganisationPublic]:
    rows, cursor = service.list_organisations(session, params, org_type=type)
    return Page(
        items=[OrganisationPublic.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=cursor,
    )


@router.get("/{organisation_id}", response_model=OrganisationPublic, summary="An organisation")
def get_organisation(organisation_id: str, session: SessionDep) -> OrganisationPublic:
    organisation = service.get_organisation(session, organisation_id)
    return OrganisationPublic.model_validate(organisation, from_attributes=True)


@router.post(
    "/{organisation_id}/deactivate",
    response_model=OrganisationPublic,
    summary="Deactivate: its tokens stop working within 30 seconds, it gets no new ones",
)
def deactivate_organisation(
    organisation_id: str,
    session: SessionDep,
    admission: AdmissionDep,
) -> OrganisationPublic:
    organisation = service.deactivate_organisation(session, organisation_id)
    # Flushed here, committed by SessionDep before the response; this process stops
    # accepting the organisation's tokens now, other gateway processes within the TTL.
    session.flush()
    admission.organisation_deactivated(organisation.id)
    return OrganisationPublic.model_validate(organisation, from_attributes=True)


@router.get(
    "/{organisation_id}/clients",
    response_model=list[ClientCredentialPublic],
    summary="The organisation's client credentials (never their secrets)",
)
def list_clients(organisation_id: str, session: SessionDep) -> list[ClientCredentialPublic]:
    return [
        ClientCredentialPublic.model_validate(c, from_attributes=True)
        for c in service.list_credentials(session, organisation_id)
    ]


@router.post(
    "/{organisation_id}/clients",
    status_code=status.HTTP_201_CREATED,
    response_model=ClientCredentialIssued | ClientCredentialPublic,
    responses={
        201: {"model": ClientCredentialIssued, "description": "Issued; the secret is shown once"},
        200: {
            "model": ClientCredentialPublic,
            "description": "A retry with the same Idempotency-Key and body within 24 h: the "
            "credential issued then, without its secret (lost it? revoke it and issue anew)",
        },
        **problem_responses(409),
    },
    summary="Issue a client credential; the secret is shown in this response only",
)
def issue_client(
    organisation_id: str,
    session: SessionDep,
    response: Response,
    data: ClientCredentialCreate | None = None,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=100,
            pattern=r"^[\x21-\x7e]+$",
            description="Makes a retry within 24 h answer the first credential (no secret)",
        ),
    ] = None,
) -> ClientCredentialIssued | ClientCredentialPublic:
    response.headers["Cache-Control"] = "no-store"
    result = service.issue_credential(
        session, organisation_id, data.label if data else None, idempotency_key
    )
    if isinstance(result, ClientCredentialIssued):
        return result
    response.status_code = status.HTTP_200_OK
    return ClientCredentialPublic.model_validate(result, from_attributes=True)


@router.post(
    "/{organisation_id}/clients/{client_id}/rotate",
    response_model=ClientCredentialIssued,
    responses=problem_responses(409),
    summary="A new secret for the client; the old one stops working at once",
)
def rotate_client(
    organisation_id: str,
    client_id: str,
    session: SessionDep,
    response: Response,
) -> ClientCredentialIssued:
    response.headers["Cache-Control"] = "no-store"
    return service.rotate_credential(session, organisation_id, client_id)


@router.post(
    "/{organisation_id}/clients/{client_id}/revoke",
    response_model=ClientCredentialPublic,
    summary="Revoke a client credential (idempotent); it can get no new tokens",
)
def revoke_client(
    organisation_id: str, client_id: str, session: SessionDep
) -> ClientCredentialPublic:
    credential = service.revoke_credential(session, organisation_id, client_id)
    return ClientCredentialPublic.model_validate(credential, from_attributes=True)


@router.post(
    "/{organisation_id}/users",
    status_code=status.HTTP_201_CREATED,
    response_model=StaffUserPublic,
    responses=problem_responses(409),
    summary="Add a staff user who logs in with grant_type=password",
)
def add_user(organisation_id: str, data: StaffUserCreate, session: SessionDep) -> StaffUserPublic:
    user = service.add_user(session, organisation_id, data)
    return StaffUserPublic.model_validate(user, from_attributes=True)


@router.get(
    "/{organisation_id}/users",
    response_model=Page[StaffUserPublic],
    summary="The organisation's staff users",
)
def list_users(
    organisation_id: str, session: SessionDep, params: PageParamsDep
) -> Page[StaffUserPublic]:
    rows, cursor = service.list_users(session, organisation_id, params)
    return Page(
        items=[StaffUserPublic.model_validate(u, from_attributes=True) for u in rows],
        next_cursor=cursor,
    )


@router.post(
    "/{organisation_id}/users/{user_id}/deactivate",
    response_model=StaffUserPublic,
    summary="Deactivate a staff user (idempotent): they get no new tokens",
)
def deactivate_user(organisation_id: str, user_id: str, session: SessionDep) -> StaffUserPublic:
    user = service.deactivate_user(session, organisation_id, user_id)
    return StaffUserPublic.model_validate(user, from_attributes=True)
