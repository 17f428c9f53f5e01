"""How an emulator behaves: one frozen record, checked once, read by every other room."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Literal, get_args

FaultKind = Literal["429", "500", "503", "50505", "drop", "lost_response", "stream_break"]
"""What a faulty request gets.

``429``/``500``/``503``: an error in the contract's form (429 and 503 carry ``Retry-After``);
``50505``: the platform's "overloaded" envelope under HTTP 200; ``drop``: the connection closes before
the answer is complete. Opt-in kinds: ``lost_response`` (the work IS done, then the connection drops:
the case client idempotency keys exist for) and ``stream_break`` (a streaming chat answer stops midway;
for any other request it acts as ``drop``). Every kind but ``lost_response`` is decided before any
state changes, so a failed request did nothing.
"""

FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)
DEFAULT_FAULT_KINDS: tuple[FaultKind, ...] = ("429", "500", "503", "50505", "drop")
BASE_MODELS: tuple[str, ...] = (
    "Qwen/Qwen2.5-7B-Instruct",
    "Qwen/Qwen2.5-14B-Instruct",
    "Qwen/Qwen2.5-32B-Instruct",
    "Qwen/Qwen2.5-72B-Instruct",
)


def new_api_key() -> str:
    """A fresh key for an emulator, e.g. ``emu-3f9a…``."""
    return "emu-" + secrets.token_hex(16)


@dataclass(frozen=True)
class Settings:
    """Every knob of the emulator. Times are simulated seconds unless named otherwise."""

    api_key: str = field(default_factory=new_api_key, repr=False)
    time_scale: float = 1.0
    """How much faster than real time jobs run: 100 makes a 5 s job take 0.05 s."""
    fault_rate: float = 0.0
    """Share (0-1) of authenticated ``/v1`` requests that fail with one of ``fault_kinds``."""
    seed: int = 0
    """Seeds the fault draws, and the loss curves of jobs created without their own ``seed``."""
    envelope: bool = False
    """Answer in the platform's ``{code, message, status, data}`` form (SSE streams never are)."""
    envelope_chat: bool = True
    """With ``envelope``: also wrap non-streaming chat answers (False keeps them OpenAI-plain)."""
    latency: float = 0.0
    """Real seconds added before every ``/v1`` request is handled."""
    retry_after: float = 0.0
    """Seconds sent in ``Retry-After`` with 429 and 503 faults."""
    fault_kinds: tuple[FaultKind, ...] = DEFAULT_FAULT_KINDS
    fault_paths: tuple[str, ...] = ()
    """Path prefixes (e.g. ``/v1/chat``) that faults may hit; empty means every ``/v1`` path."""
    base_models: tuple[str, ...] = BASE_MODELS
    org: str = "emulator-org"
    validate_seconds: float = 0.5
    queue_seconds: float = 0.5
    step_seconds: float = 0.05
    chunk_chars: int = 4
    """Characters of reply per streamed delta."""
    chunk_delay: float = 0.0
    """Real seconds between streamed deltas."""
    prompt_token_delay: float = 0.0
    """Real seconds per prompt token before a chat answer starts: an emulated prefill, so that a long
    system prompt visibly answers later than a short one (``compare`` shows the difference)."""
    base_reply_chars: int = 0
    """Pad base-model replies to at least this many characters (for benchmarks of long streams)."""
    max_file_bytes: int = 512 * 1024 * 1024
    """A larger uploaded file gets 413 ``file_too_large``."""
    max_request_bytes: int = 8 * 1024 * 1024
    """Larger JSON bodies (a chat request, a job) get 413 ``request_too_large``: far above any context
    window, far below what would hold a shared emulator up."""
    header_timeout: float = 10.0
    """Real seconds a client has to send a request's head (from connecting, or after an answer); then the
    connection is closed."""
    poll_hints: bool = True
    """Answer a job's GET, while it has not ended, with ``Retry-After``/``retry-after-ms``: when its
    status is next due to change (False: answer as a server that gives no hint)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if self.time_scale <= 0:
            raise ValueError("time_scale must be positive")
        for name in ("latency", "retry_after", "chunk_delay", "prompt_token_delay", "step_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        unknown = set(self.fault_kinds) - set(FAULT_KINDS)
        if unknown or not self.fault_kinds:
            raise ValueError(f"fault_kinds must be a non-empty subset of {FAULT_KINDS}")
        if self.chunk_chars < 1:
            raise ValueError("chunk_chars must be at least 1")
        if not self.api_key:
            raise ValueError("api_key must not be empty")
        if self.header_timeout <= 0:
            raise ValueError("header_timeout must be positive")
        if self.max_request_bytes < 1 or self.max_file_bytes < 1:
            raise ValueError("max_request_bytes and max_file_bytes must be positive")
