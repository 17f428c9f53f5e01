"""``Idempotency-Key`` on every POST: the same key (per endpoint) gets the first answer again.

Only successful answers are remembered (a request that failed did nothing, so a retry may try again).
Two requests with the same key at the same time do the work once: the second waits for the first.
Reusing a key with a different JSON body is a 400 (``idempotency_key_reused``). All of this runs on the
server's one event loop, so it needs no lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
from starlette.responses import Response

from .responses import ApiError

REPLAY_HEADER = "idempotent-replayed"


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    media_type: str | None
    fingerprint: str | None


class Idempotency:
    """Remembers the first successful answer for each (endpoint, key)."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], _Answer] = {}
        self._pending: dict[tuple[str, str], anyio.Event] = {}

    async def run(
        self,
        endpoint: str,
        key: str | None,
        work: Callable[[], Awaitable[Response]],
        *,
        body: bytes | None = None,
    ) -> Response:
        """Answer with ``work()``, or with the answer remembered for ``key`` at ``endpoint``."""
        if not key:
            return await work()
        slot = (endpoint, key)
        fingerprint = None if body is None else hashlib.sha256(body).hexdigest()
        while slot in self._pending:
            await self._pending[slot].wait()
        if slot in self._answers:
            return self._replay(self._answers[slot], fingerprint)
        done = self._pending[slot] = anyio.Event()
        try:
            response = await work()
            if 200 <= response.status_code < 300:
                self._answers[slot] = _Answer(
                    response.status_code, bytes(response.body), response.media_type, fingerprint
                )
            return response
        finally:
            del self._pending[slot]
            done.set()

    @staticmethod
    def _replay(answer: _Answer, fingerprint: str | None) -> Response:
        if None not in (fingerprint, answer.fingerprint) and fingerprint != answer.fingerprint:
            raise ApiError(
                400,
                "Idempotency-Key was already used with a different request body",
                "idempotency_key_reused",
                param="Idempotency-Key",
            )
        return Response(
            answer.body,
            status_code=answer.status,
            media_type=answer.media_type,
            headers={REPLAY_HEADER: "true"},
        )

    def __len__(self) -> int:
        return len(self._answers)
