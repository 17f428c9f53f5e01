"""Chat with base and tuned models: the request and its checks (``request``), the stream's state machine
(``state``), and the stream classes (``stream``).

``client.chat(model, messages)`` opens a stream; ``client.chat.complete(...)`` gets a whole reply as a
:class:`~finetune_sdk.ChatCompletion`. The stream classes and the answer types are exported here and
from :mod:`finetune_sdk`.
"""

from ..types.chat import ChatChoice, ChatCompletion, ChatMessage, ChatUsage
from .request import ChatOptions, Messages
from .stream import AsyncChatStream, ChatStream

__all__ = [
    "AsyncChatStream",
    "ChatChoice",
    "ChatCompletion",
    "ChatMessage",
    "ChatOptions",
    "ChatStream",
    "ChatUsage",
    "Messages",
]
