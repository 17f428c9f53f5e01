"""The only code that knows httpx's and httpcore's workings, through their public APIs: the transports
the SDK builds (deadline-aware network streams, proxies chosen for the base URL, fresh connections in a
forked process or a new event loop) and one attempt of a request within its limits."""
