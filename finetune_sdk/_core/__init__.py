"""The SDK's core without network I/O: what a request is and what an answer means, the client's settings,
retries, limits, the poll schedule, and each multi-step flow (create, wait, follow, paging) written once.

Nothing here opens a connection. The sync and async clients (``_base_client``) drive the flows and send
the requests they describe; ``_transport`` is the only code that knows httpx's and httpcore's internals'
neighbours (through their public APIs).
"""
