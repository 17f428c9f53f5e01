"""The types read what OpenAI's schema allows: "auto" and null hyperparameters, a method, OpenAI's
"warn" and the platform's older "warning", numbers of either kind; and keep today's conveniences."""

from __future__ import annotations

from finetune_sdk import EventLevel, FineTuneJob
from finetune_sdk.hyperparameters import Hyperparameters
from finetune_sdk.types import Checkpoint, JobEvent, JobHyperparameters, MethodType, Page

JOB = {"id": "ftjob-1", "model": "gpt-4o-mini", "status": "succeeded", "created_at": 1}


def test_hyperparameters_may_be_auto_or_null_and_keep_the_dict_behaviour() -> None:
    job = FineTuneJob.model_validate(
        {**JOB, "hyperparameters": {"n_epochs": "auto", "batch_size": None, "learning_rate_multiplier": 1.8}}
    )
    hp = job.hyperparameters
    assert (hp.n_epochs, hp.batch_size, hp.learning_rate_multiplier) == ("auto", None, 1.8)
    assert hp["learning_rate_multiplier"] == 1.8 and hp.get("nope", 0) == 0
    assert "n_epochs=auto" in str(hp) and bool(hp)
    preset = Hyperparameters.preset("fast").model_dump()
    platform = JobHyperparameters.model_validate(preset)
    assert platform == preset and "learning_rate_multiplier" not in platform.as_dict()
    assert not JobHyperparameters()  # none reported: the defaults stand in, and it is falsy
    assert JobHyperparameters()["n_epochs"] == 3


def test_openais_job_fields_are_read() -> None:
    job = FineTuneJob.model_validate(
        {
            **JOB,
            "organization_id": "org-1",
            "result_files": ["file-9"],
            "integrations": [{"type": "wandb", "wandb": {"project": "p"}}],
            "method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": "auto", "n_epochs": 2}}},
            "error": {"code": "c", "message": "m", "param": "training_file"},
            "estimated_finish": 12.7,
        }
    )
    assert job.organization_id == "org-1" and job.metrics_file == "file-9"
    assert job.integrations is not None and job.integrations[0].wandb is not None
    assert job.method is not None and job.method.type is MethodType.DPO
    assert job.method.hyperparameters is not None and job.method.hyperparameters.n_epochs == 2
    assert job.error is not None and job.error.param == "training_file"
    assert job.estimated_finish == 12
    odd = FineTuneJob.model_validate({**JOB, "method": {"type": "distillation"}})
    assert odd.method is not None and odd.method.type == "distillation" and odd.method.hyperparameters is None


def test_event_levels_warn_and_warning_are_both_warnings() -> None:
    def level(value: str) -> EventLevel:
        return JobEvent.model_validate({"id": "e", "created_at": 1, "message": "m", "level": value}).level

    assert level("warn") is EventLevel.WARN and level("warn").is_warning
    assert level("warning") is EventLevel.WARNING and level("warning").is_warning
    assert level("error").is_error and not level("info").is_warning
    assert level("debug") == "debug"  # a level added later is kept
    empty = JobEvent.model_validate({"id": "e", "created_at": 1, "message": "m", "data": {}})
    assert empty.data is not None and empty.data.step is None and not empty.data  # {} reads as falsy


def test_a_number_is_read_whatever_its_kind() -> None:
    checkpoint = Checkpoint.model_validate(
        {"id": "c", "created_at": 1, "step_number": 88, "metrics": {"step": 88.0, "train_loss": 1}}
    )
    assert checkpoint.metrics is not None and checkpoint.metrics.step == 88.0
    whole = Checkpoint.model_validate({"id": "c", "metrics": {"step": 88}}).metrics
    assert whole is not None and type(whole.step) is int
    page = Page[Checkpoint].model_validate({"data": [], "has_more": False, "first_id": None, "last_id": None})
    assert page.first_id is None and page.data == []
