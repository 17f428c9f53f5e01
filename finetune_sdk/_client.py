"""``Client`` and ``AsyncClient``: settings, the connection pool, and the resources as properties.

Sending lives in :mod:`finetune_sdk._base_client`; each resource lives in ``resources/`` and is built
(and imported) on first use, so ``import finetune_sdk`` stays light.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from ._base_client import AsyncAPIClient, SyncAPIClient

if TYPE_CHECKING:
    import openai

    from .resources.chat import AsyncChat, Chat
    from .resources.checkpoints import AsyncCheckpoints, Checkpoints
    from .resources.files import AsyncFiles, Files
    from .resources.jobs import AsyncJobs, Jobs

__all__ = ["AsyncClient", "Client"]


class Client(SyncAPIClient):
    """The synchronous client of the fine-tuning platform.

    Settings come from the arguments, then the environment (``FINETUNE_API_KEY``,
    ``FINETUNE_BASE_URL``), then defaults. Use it as a context manager, or call :meth:`close`.
    A client given an ``http_client`` uses it as it is and leaves it open.

    Args:
        api_key: the platform key; sent as ``Authorization: Bearer``. Never printed.
        base_url: defaults to ``https://api.openapi.cn/v1``.
        timeout: seconds, an ``httpx.Timeout``, or None for no limit. It limits each network operation
            and, unless ``deadline`` / ``idle_timeout`` say otherwise, each attempt as a whole (its
            longest value) and the pause between two events of a chat stream.
        max_retries: how many times a failed call (connection lost, timeout, 408, 429, 5xx, overload)
            is tried again; 0 turns retries off.
        max_retry_wait: the longest single pause between attempts, ``Retry-After`` included.
        http_client: an ``httpx.Client`` to send through (proxies, custom transports ...).
        default_headers: extra headers sent with every request (a ``User-Agent`` is sent after the
            SDK's own token; ``Authorization`` always comes from ``api_key``).
        poll_interval: how ``jobs.wait`` paces its polls: a :class:`~finetune_sdk.PollSchedule`, a
            number of seconds for a steady pace, or None for ``FINETUNE_POLL_INTERVAL`` if set, else
            the default schedule (0.1 s, doubling up to 15 s).
        deadline: seconds one attempt may take in all (connecting, sending, the answer's headers and
            body, a stream up to its first text), however slowly the server sends; ``inf`` for no
            total limit. Defaults to the longest value of ``timeout``; a call's own ``timeout=``
            caps it for that call.
        idle_timeout: the longest pause between two events of a chat stream (keep-alive comments do
            not count); defaults to the longest value of ``timeout``.
        max_answer_bytes: the largest answer read, decompressed (default 32 MiB), and the longest line
            of a stream; a larger one raises :class:`~finetune_sdk.ResponseTooLargeError`.
        allow_insecure_http: allow a plain ``http://`` base URL on a host other than this machine (the
            key would travel unencrypted); also ``FINETUNE_ALLOW_INSECURE_HTTP=1``.
        trust_env: use the proxies the environment names (``HTTPS_PROXY``, ``HTTP_PROXY``,
            ``ALL_PROXY``, ``NO_PROXY``) and its certificate settings (``SSL_CERT_FILE``); this machine is
            always reached directly. False ignores them.
        retry_budget: a :class:`~finetune_sdk.RetryBudget` shared by the client's calls (the default
            holds 20 tokens): while a server fails everything, retries stop after a few and each call
            costs one attempt. None retries every call up to ``max_retries``.

    A client is safe to share between threads. In a process forked after it was used (gunicorn with
    ``--preload``, ``multiprocessing``), it opens fresh connections of its own; an ``AsyncClient`` does
    the same on an event loop other than the one it last ran on. A client given an ``http_client`` uses
    it as it is: its connections, proxies and timeouts are the caller's, and the per-read bounds of
    ``deadline`` and ``idle_timeout`` apply only between the chunks of an answer.
    """

    @functools.cached_property
    def files(self) -> Files:
        """Upload, list, retrieve and delete training files."""
        from .resources.files import Files

        return Files(self)

    @functools.cached_property
    def jobs(self) -> Jobs:
        """Create, inspect, cancel, follow and wait for fine-tuning jobs."""
        from .resources.jobs import Jobs

        return Jobs(self)

    @functools.cached_property
    def checkpoints(self) -> Checkpoints:
        """The saved checkpoints of fine-tuning jobs."""
        from .resources.checkpoints import Checkpoints

        return Checkpoints(self)

    @functools.cached_property
    def chat(self) -> Chat:
        """Chat with base and tuned models: ``client.chat(model, messages)`` streams a reply."""
        from .resources.chat import Chat

        return Chat(self)

    @functools.cached_property
    def openai(self) -> openai.OpenAI:
        """The official ``openai.OpenAI`` client, for what goes beyond text chat (tools, JSON mode,
        logprobs ...). Made on first use (``openai`` is imported only then) with this client's base URL,
        key, timeout, retries and headers, and sharing its connection pool; do not close it on its own
        (closing this client closes the pool)."""
        import openai

        made: openai.OpenAI = _make_openai(openai.OpenAI, self)
        return made


class AsyncClient(AsyncAPIClient):
    """The asynchronous client: the same surface as :class:`Client`, with ``await``.

    Runs on asyncio and trio (through anyio). Use ``async with``, or call :meth:`close` (or
    :meth:`aclose`). A client given an ``http_client`` (an ``httpx.AsyncClient``) uses it as it is and
    leaves it open.
    """

    @functools.cached_property
    def files(self) -> AsyncFiles:
        """Upload, list, retrieve and delete training files."""
        from .resources.files import AsyncFiles

        return AsyncFiles(self)

    @functools.cached_property
    def jobs(self) -> AsyncJobs:
        """Create, inspect, cancel, follow and wait for fine-tuning jobs."""
        from .resources.jobs import AsyncJobs

        return AsyncJobs(self)

    @functools.cached_property
    def checkpoints(self) -> AsyncCheckpoints:
        """The saved checkpoints of fine-tuning jobs."""
        from .resources.checkpoints import AsyncCheckpoints

        return AsyncCheckpoints(self)

    @functools.cached_property
    def chat(self) -> AsyncChat:
        """Chat with base and tuned models: ``async for delta in client.chat(model, messages)``."""
        from .resources.chat import AsyncChat

        return AsyncChat(self)

    @functools.cached_property
    def openai(self) -> openai.AsyncOpenAI:
        """The official ``openai.AsyncOpenAI`` client; see :attr:`Client.openai`."""
        import openai

        made: openai.AsyncOpenAI = _make_openai(openai.AsyncOpenAI, self)
        return made


def _make_openai(factory: Any, client: SyncAPIClient | AsyncAPIClient) -> Any:
    """An official client with this client's settings, sharing its httpx pool when the installed openai
    accepts it (openai 1.x takes an ``httpx.Client``; later versions built on other HTTP stacks may
    refuse it, and then get a pool of their own)."""
    import openai

    config = client.config
    t = config.timeout
    options: dict[str, Any] = {
        "api_key": config.require_key(),
        "base_url": str(config.base_url),
        "timeout": openai.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool),
        "max_retries": config.max_retries,
        "default_headers": dict(config.default_headers) or None,
    }
    try:
        return factory(**options, http_client=client.http_client)
    except TypeError:
        return factory(**options)
