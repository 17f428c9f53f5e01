"""What a job trains on: its files checked with the SDK's own validator, the held-out split, the billed
tokens, and the (prompt, reply) pairs a tuned model answers from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..data import Dataset

Error = dict[str, str | None]


@dataclass(frozen=True)
class TrainingSet:
    """The outcome of preparing a job's files."""

    error: Error | None
    """``{code, message, param}`` when a file breaks a rule (the message names the first bad line)."""
    examples: int = 0
    """Training examples, after the held-out split."""
    validation: bool = False
    """Whether there is validation data (a validation file, or examples held out)."""
    billed_per_epoch: int = 0
    """The billed tokens of one epoch: every training example, cut at ``max_tokens``."""
    warnings: tuple[str, ...] = ()
    """The validator's warnings (e.g. examples longer than ``max_tokens``), as ``LINE: code: message``."""
    pairs: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])
    """Every (user message, assistant reply) pair of the training file, in file order."""


def check_file(path: Path, *, role: str, max_tokens: int) -> tuple[Error | None, tuple[str, ...]]:
    """Validate ``path`` by the rules of :meth:`Dataset.validate_file` (role: training/validation):
    the error of the first bad line, or None; and the warnings."""
    report = Dataset.validate_file(path, max_errors=1, max_tokens=max_tokens)
    if not report.ok:
        issue = report.errors[0]
        where = f"line {issue.line}" if issue.line is not None else "file"
        message = f"The {role} file is not valid: {where}: {issue.message} ({issue.code})"
        return {"code": f"invalid_{role}_file", "message": message, "param": f"{role}_file"}, ()
    return None, tuple(str(warning) for warning in report.warnings)


def billed_tokens(dataset: Dataset, max_tokens: int) -> int:
    """The billed tokens of one epoch over ``dataset``, as ``finetune stats --exact`` counts them (each
    example's templated tokens, cut at ``max_tokens``): exact with the ``tokens`` extra, else the
    estimate, cut the same way."""
    try:
        exact = dataset.stats(max_tokens, tokens="exact", n_epochs=1).exact
    except ImportError:
        exact = None
    if exact is not None:
        return exact.billed
    stats = dataset.stats(max_tokens)
    if not stats.over_max_tokens:
        return stats.estimated_tokens
    return sum(
        min(max_tokens, Dataset.model_construct(conversations=[c]).stats(max_tokens).estimated_tokens)
        for c in dataset
    )


def _pairs(dataset: Dataset) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for conversation in dataset:
        user = ""
        for message in conversation.messages:
            if message.role == "user":
                user = message.content
            elif message.role == "assistant":
                pairs.append((user, message.content))
    return pairs


def prepare(
    train: Path, valid: Path | None, *, split: float | None, seed: int, max_tokens: int
) -> TrainingSet:
    """Check the files, hold out ``split`` of the training examples when there is no validation file (as
    :meth:`Dataset.split` does, with the job's seed), and count what one epoch bills."""
    error, warnings = check_file(train, role="training", max_tokens=max_tokens)
    if error is None and valid is not None:
        error, _ = check_file(valid, role="validation", max_tokens=max_tokens)
    if error is not None:
        return TrainingSet(error)
    data = Dataset.from_jsonl(train, max_tokens=max_tokens)
    trained, held_out = data, 0
    if valid is None and split is not None:
        try:
            trained, validation = data.split(split, seed=seed)
            held_out = len(validation)
        except ValueError:  # fewer than two examples, or all copies of one: nothing can be held out
            pass
    return TrainingSet(
        error=None,
        examples=len(trained),
        validation=valid is not None or held_out > 0,
        billed_per_epoch=billed_tokens(trained, max_tokens),
        warnings=warnings,
        pairs=_pairs(data),
    )
