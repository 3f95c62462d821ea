"""``POST /v1/residents/import`` and the job's progress and report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Query, Response, UploadFile, status

from services.registry.deps import ImportCall
from services.registry.imports import service
from services.registry.imports.models import ImportJobPublic, RejectedRow
from shared.kit.database import DatabaseDep
from shared.kit.pagination import Page, PageParamsDep
from shared.kit.problems import problem_responses
from shared.kit.routes import page_of

router = APIRouter(prefix="/v1/residents", tags=["imports"])
IMPORT_PATH = "/v1/residents/import"


@router.post(
    "/import",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(403, 413, 422),
    summary="Import residents from a CSV or XLSX file (a job; poll its URL for the report)",
)
def start_import(
    file: UploadFile,
    call: ImportCall,
    db: DatabaseDep,
    background: BackgroundTasks,
    response: Response,
    dry_run: Annotated[bool, Query(description="Validate and report without writing")] = False,
    source: Annotated[
        str | None, Form(max_length=40, description="The register the file comes from: DTSEN")
    ] = None,
    edition: Annotated[
        str | None,
        Form(max_length=10, description="The register's edition: 2025-07 (or 2025, 2025-07-15)"),
    ] = None,
    mapping: Annotated[
        str | None,
        Form(
            max_length=10_000,
            description='Column to field, as JSON, for another layout: {"ID_ART": "nik"}',
        ),
    ] = None,
) -> ImportJobPublic:
    declared = service.Edition.of(source, edition)
    content = file.file.read(call.settings.import_max_bytes + 1)
    job = service.submit(
        call.session,
        call.principal,
        file.filename,
        content,
        dry_run,
        call.settings,
        edition=declared,
        mapping=mapping,
    )
    # Runs in this process once the response is sent (the job is committed by then); the
    # service's worker loop picks up any job whose process died.
    background.add_task(service.run_job, db, job.id, call.settings)
    response.headers["Location"] = f"/v1/residents/imports/{job.id}"
    return service.to_public(call.session, job)


@router.get(
    "/imports/{job_id}",
    responses=problem_responses(404),
    summary="Progress and report of an import",
)
def get_import(job_id: str, call: ImportCall) -> ImportJobPublic:
    return service.to_public(call.session, service.get_job(call.session, call.principal, job_id))


@router.get(
    "/imports/{job_id}/rejections",
    responses=problem_responses(404),
    summary="Every rejected row of an import, page by page",
)
def list_rejections(job_id: str, call: ImportCall, page: PageParamsDep) -> Page[RejectedRow]:
    service.get_job(call.session, call.principal, job_id)
    return page_of(service.rejections(call.session, job_id, page))
