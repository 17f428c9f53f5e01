"""A job's log: :class:`JobEvent`, its :class:`EventLevel` and the step metrics it may carry."""

from __future__ import annotations

from .._models import APIModel, APIPart
from ._common import Lenient, Number, OpenEnum, Timestamp

__all__ = ["EventLevel", "EventType", "JobEvent", "JobEventData"]


class EventLevel(OpenEnum):
    """How much an event matters: ``info``, ``warn`` or ``error`` (OpenAI's levels); ``warning`` is what
    earlier versions of the platform sent for ``warn`` and is still read. A level added later is accepted
    too. :attr:`is_warning` holds for both spellings."""

    INFO = "info"
    WARN = "warn"
    WARNING = "warning"
    ERROR = "error"

    @property
    def is_warning(self) -> bool:
        """True for ``warn`` and the older ``warning``."""
        return self in (EventLevel.WARN, EventLevel.WARNING)

    @property
    def is_error(self) -> bool:
        """True for ``error``."""
        return self is EventLevel.ERROR


class EventType(OpenEnum):
    """What an event is: a ``message`` (a status change, a warning) or ``metrics`` of a training step."""

    MESSAGE = "message"
    METRICS = "metrics"


class JobEventData(APIPart):
    """What a training-step event carries: the step and its metrics (other keys are kept in
    ``model_extra``). OpenAI's schema gives event data no shape, so a key below holding something else
    than a number reads as None here rather than failing the event."""

    step: Lenient[Number] = None
    total_steps: Lenient[int] = None
    epoch: Lenient[float] = None
    train_loss: Lenient[float] = None
    valid_loss: Lenient[float] = None
    train_mean_token_accuracy: Lenient[float] = None
    valid_mean_token_accuracy: Lenient[float] = None
    full_valid_loss: Lenient[float] = None
    full_valid_mean_token_accuracy: Lenient[float] = None
    learning_rate: Lenient[float] = None

    def __bool__(self) -> bool:
        # False for the empty ``{}`` of a message event, as the ``null`` earlier servers sent was.
        return bool(self.model_fields_set or self.model_extra)


class JobEvent(APIModel):
    """One line of a job's log: a status change or a training step with its metrics (``data``)."""

    id: str
    object: str = "fine_tuning.job.event"
    created_at: Timestamp
    level: EventLevel = EventLevel.INFO
    message: str
    type: EventType | None = None
    data: JobEventData | None = None
