"""State stays right under concurrent requests (50 at once)."""

from __future__ import annotations

import anyio
import httpx

from finetune_sdk.emulator import Emulator
from tests.emulator.helpers import BASE, auth, dataset

N = 50


def test_50_concurrent_uploads_creates_and_reads() -> None:
    async def run(emu: Emulator) -> None:
        limits = httpx.Limits(max_connections=N)
        async with httpx.AsyncClient(
            base_url=emu.base_url, headers=auth(emu), limits=limits, timeout=30
        ) as client:
            files: list[str] = []

            async def upload() -> None:
                answer = await client.post(
                    "/files", files={"file": ("t.jsonl", dataset(5))}, data={"purpose": "fine-tune"}
                )
                files.append(answer.json()["id"])

            async with anyio.create_task_group() as group:
                for _ in range(N):
                    group.start_soon(upload)
            assert len(set(files)) == N

            jobs: list[str] = []
            keyed: list[str] = []

            async def create(index: int) -> None:
                body = {"model": BASE, "training_file": files[index]}
                answer = await client.post("/fine_tuning/jobs", json=body)
                jobs.append(answer.json()["id"])
                same = {"model": BASE, "training_file": files[0]}
                again = await client.post("/fine_tuning/jobs", json=same, headers={"Idempotency-Key": "one"})
                keyed.append(again.json()["id"])
                assert (await client.get("/fine_tuning/jobs", params={"limit": 100})).status_code == 200
                assert (await client.get(f"/files/{files[index]}")).status_code == 200

            async with anyio.create_task_group() as group:
                for index in range(N):
                    group.start_soon(create, index)
            assert len(set(jobs)) == N
            assert len(set(keyed)) == 1  # 50 concurrent requests with one key made one job
            listed = (await client.get("/fine_tuning/jobs", params={"limit": 100})).json()["data"]
            assert {j["id"] for j in listed} == {*jobs, *keyed}

            async def cancel(job_id: str) -> int:
                return (await client.post(f"/fine_tuning/jobs/{job_id}/cancel")).status_code

            statuses: list[int] = []

            async def cancel_into(job_id: str) -> None:
                statuses.append(await cancel(job_id))

            async with anyio.create_task_group() as group:
                for _ in range(N):
                    group.start_soon(cancel_into, keyed[0])
            assert statuses.count(200) == 1  # cancelled once; then it has ended (409)
            assert statuses.count(409) == N - 1

    with Emulator(time_scale=0.1) as emu:  # slow: the jobs are still running when cancelled
        anyio.run(run, emu)
        assert emu.state.counts() == {"files": N, "jobs": N + 1}
