"""How a job trains (OpenAI's ``method``) and where it reports (``integrations``), as a job reports them."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .._models import APIPart
from ._common import Auto, OpenEnum

__all__ = [
    "DpoHyperparameters",
    "DpoMethod",
    "Integration",
    "JobMethod",
    "MethodHyperparameters",
    "MethodType",
    "ReinforcementHyperparameters",
    "ReinforcementMethod",
    "SupervisedMethod",
    "WandbIntegration",
]


class MethodType(OpenEnum):
    """The training method: ``supervised`` (what the platform runs), ``dpo`` or ``reinforcement``."""

    SUPERVISED = "supervised"
    DPO = "dpo"
    REINFORCEMENT = "reinforcement"


class MethodHyperparameters(APIPart):
    """OpenAI's hyperparameters of a method: each ``"auto"``, a number, or absent (None). Keys a server
    adds (the platform's LoRA settings) are kept in ``model_extra``."""

    n_epochs: int | Auto | None = None
    batch_size: int | Auto | None = None
    learning_rate_multiplier: float | Auto | None = None


class DpoHyperparameters(MethodHyperparameters):
    """DPO's hyperparameters: OpenAI's three and ``beta``."""

    beta: float | Auto | None = None


class ReinforcementHyperparameters(MethodHyperparameters):
    """Reinforcement fine-tuning's hyperparameters."""

    reasoning_effort: str | None = None
    compute_multiplier: float | Auto | None = None
    eval_interval: int | Auto | None = None
    eval_samples: int | Auto | None = None


class SupervisedMethod(APIPart):
    """``method.supervised``: supervised fine-tuning, the training the platform runs."""

    hyperparameters: MethodHyperparameters | None = None


class DpoMethod(APIPart):
    """``method.dpo``: direct preference optimisation."""

    hyperparameters: DpoHyperparameters | None = None


class ReinforcementMethod(APIPart):
    """``method.reinforcement``: the ``grader`` is kept as sent (it comes in five shapes)."""

    grader: dict[str, Any] | None = None
    hyperparameters: ReinforcementHyperparameters | None = None


class JobMethod(APIPart):
    """The ``method`` of a job: its ``type`` and the settings under the key of that name."""

    type: MethodType
    supervised: SupervisedMethod | None = None
    dpo: DpoMethod | None = None
    reinforcement: ReinforcementMethod | None = None

    @property
    def hyperparameters(self) -> MethodHyperparameters | None:
        """The hyperparameters of the method named by ``type``, if reported."""
        chosen = {
            MethodType.SUPERVISED: self.supervised,
            MethodType.DPO: self.dpo,
            MethodType.REINFORCEMENT: self.reinforcement,
        }.get(self.type)
        return None if chosen is None else chosen.hyperparameters


class WandbIntegration(APIPart):
    """Where a Weights & Biases integration reports."""

    project: str
    name: str | None = None
    entity: str | None = None
    tags: list[str] = Field(default_factory=list)


class Integration(APIPart):
    """One of a job's ``integrations``: its ``type`` (``wandb``) and settings."""

    type: str
    wandb: WandbIntegration | None = None
