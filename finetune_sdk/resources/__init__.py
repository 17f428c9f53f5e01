"""The platform's endpoints, one resource per module: ``files``, ``jobs``, ``checkpoints``, ``chat``."""
