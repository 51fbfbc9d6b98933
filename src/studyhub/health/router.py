from __future__ import annotations

from fastapi import APIRouter, Response

from studyhub.core.metrics import render_metrics
from studyhub.health.schemas import CheckStatus, Liveness, Readiness
from studyhub.health.service import HealthServiceDep

router = APIRouter(tags=["health"])


@router.get("/health", name="health-live", response_model=Liveness, summary="Liveness (no I/O)")
async def live() -> Liveness:
    return Liveness()


@router.get(
    "/health/ready",
    name="health-ready",
    response_model=Readiness,
    summary="Readiness: database, cache and StudyIndexer",
    responses={503: {"model": Readiness, "description": "A required dependency is down"}},
)
async def ready(service: HealthServiceDep, response: Response) -> Readiness:
    readiness = await service.readiness()
    if readiness.status is CheckStatus.DOWN:
        response.status_code = 503
    response.headers["Cache-Control"] = "no-store"
    return readiness


@router.get(
    "/metrics",
    name="metrics-scrape",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics() -> Response:
    body, content_type = render_metrics()
    return Response(body, media_type=content_type)
