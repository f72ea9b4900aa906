"""The bench's baseline: a bare FastAPI endpoint that reads the body and answers, nothing else."""

from __future__ import annotations

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/bare")
async def bare(request: Request) -> dict[str, str]:
    await request.body()
    return {"status": "queued"}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
