"""One call from raw data to a tuned model and its report: :func:`tune`.

Prepare the data locally (:mod:`._prepare`), then upload and create with an idempotency key derived from
the inputs, remember the job in a state file (:mod:`._state`), wait, compare with the base model when
prompts are given, and write the report. Every stage says what it did through ``on_stage``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Final

from .._atomic import StrPath, check_outputs
from .._client import Client
from .._core import guide
from .._core.checks import is_str
from .._core.config import API_KEY_ENV
from .._core.create import HyperparametersInput, UpdateCallback
from .._core.job_settings import check_settings, epochs_of, hyperparameters_body
from ..data import FieldMap, SourceName
from ..errors import ConfigurationError, JobError, NotFoundError
from ..evaluate import Check, CheckLike, Comparison, parse_check
from ..types import FineTuneJob
from ._prepare import DEFAULT_VALIDATION_RATIO, Prepared, Say, log_line, output_folder, prepare, stem_of
from ._report import write_report
from ._result import TuneResult
from ._state import TuneState, idempotency_key, read_state, write_state

__all__ = ["NO_KEY", "REPORT_SUFFIXES", "TuneOptions", "Wait", "run", "tune"]

NO_KEY: Final = (
    f"no API key: set {API_KEY_ENV} to the platform's key, or start the local emulator and use its key: "
    'eval "$(finetune emulator --env &)"'
)
"""The error of a tuning without a key: the two ways forward."""

REPORT_SUFFIXES: Final = (".html", ".htm")
"""What a report's name may end in: it is an HTML page."""

Wait = Callable[[Client, FineTuneJob], FineTuneJob]
"""Waits for a job to succeed and returns it (raising the job's error when it does not)."""


@dataclasses.dataclass(frozen=True)
class TuneOptions:
    """The inputs of a tuning (the keyword arguments of :func:`tune`), checked by :meth:`check`."""

    data: StrPath
    model: str
    prompts: Sequence[str] = ()
    checks: Sequence[Check | CheckLike] = ()
    report: StrPath | None = None
    out: StrPath | None = None
    dry_run: bool = False
    hyperparameters: HyperparametersInput = None
    suffix: str | None = None
    seed: int | None = None
    validation_ratio: float = DEFAULT_VALIDATION_RATIO
    source: SourceName = "auto"
    fields: FieldMap | None = None
    price_per_mtokens: float | None = None
    price_table: StrPath | None = None
    inputs: Sequence[tuple[str, StrPath]] = ()
    """Other files read (a prompts file): no output may overwrite them."""

    @property
    def folder(self) -> Path:
        return output_folder(self.data, self.out)

    @property
    def state_path(self) -> Path:
        return self.folder / f"{stem_of(self.data)}.tune.json"

    @property
    def report_path(self) -> Path:
        if self.report is not None:
            return Path(self.report)
        return self.folder / f"{stem_of(self.data)}.report.html"

    def settings(self) -> dict[str, object]:
        """What shapes the job besides its data (hashed into the idempotency key); checked here, so a
        bad setting fails before any work."""
        model: object = self.model
        if not is_str(model) or not model:
            raise ValueError(
                f"model must be a base model name such as 'Qwen/Qwen2.5-7B-Instruct', got {model!r}"
            )
        check_settings(model=self.model, suffix=self.suffix, seed=self.seed, metadata=None)
        if not 0 < self.validation_ratio <= 0.5:
            raise ValueError(f"validation_ratio must be in (0, 0.5], got {self.validation_ratio!r}")
        body = hyperparameters_body(self.model, self.hyperparameters)
        return {"model": self.model, "hyperparameters": body, "suffix": self.suffix, "seed": self.seed}

    def check(self) -> dict[str, object]:
        """The settings, once the paths are known to be usable: the data exists, and neither the report
        nor the state file would overwrite an input."""
        if not Path(self.data).is_file():
            raise FileNotFoundError(2, "No such file", os.fspath(self.data))
        settings = self.settings()
        if self.checks and not self.prompts:
            # the checks score the comparison, which needs prompts: silently unused they would mislead
            raise ValueError("checks score the comparison with the base model: give eval prompts too")
        if self.report is not None and not Path(self.report).absolute().parent.is_dir():
            # found now, not after the training it would report on
            raise FileNotFoundError(2, "No such folder for the report", os.fspath(self.report))
        outputs = [("the report", self.report_path), ("the state file", self.state_path)]
        check_outputs(outputs, [("the data", self.data), *self.inputs])
        if self.report is not None and Path(self.report).suffix.lower() not in REPORT_SUFFIXES:
            # found now, not after the training: an HTML page under another name would not open as one
            given = os.fspath(self.report)
            raise ValueError(f"the report is an HTML page: give a file name ending in .html, got {given!r}")
        return settings


def read_prompts(prompts: StrPath | Iterable[str] | None) -> tuple[list[str], list[tuple[str, StrPath]]]:
    """The prompts to evaluate: a file's non-blank lines, or the strings given; and the file read."""
    if prompts is None:
        return [], []
    if isinstance(prompts, (str, os.PathLike)):
        try:
            lines = Path(prompts).read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as exc:
            where = f"byte {exc.start}: {exc.reason}"
            raise ValueError(f"the prompts file {os.fspath(prompts)} is not UTF-8 text ({where})") from None
        found = [line.strip() for line in lines if line.strip()]
        if not found:  # found now, not after the training whose comparison it would have been
            raise ValueError(f"the prompts file {os.fspath(prompts)} holds no prompt: write one per line")
        return found, [("the prompts file", prompts)]
    given = [str(prompt) for prompt in prompts]
    if not any(prompt.strip() for prompt in given):
        raise ValueError("eval holds no prompt: give at least one, or no eval to skip the comparison")
    return given, []


def _create(
    client: Client, options: TuneOptions, prepared: Prepared, key: str, say: Say
) -> tuple[FineTuneJob, bool]:
    """The job of these inputs: the one the state file remembers, else a new one (sent with the key, so
    a create repeated after a crash returns the first)."""
    remembered = read_state(options.state_path)
    if remembered is not None and remembered.key == key:
        try:
            job = client.jobs.retrieve(remembered.job)
        except NotFoundError:
            say(f"resume: job {remembered.job} of {options.state_path} is gone: creating it again")
        else:
            say(f"resume: job {job.id} ({job.status}), remembered in {options.state_path}")
            return job, True
    job = client.jobs.create(
        model=options.model,
        training_file=prepared.training_file,
        validation_file=prepared.validation_file,
        hyperparameters=options.hyperparameters,
        suffix=options.suffix,
        seed=options.seed,
        local_split=None,
        idempotency_key=key,
    )
    write_state(options.state_path, TuneState(key, job.id, job.training_file, job.validation_file))
    files = ", ".join(f for f in (job.training_file, job.validation_file) if f)
    say(f"create: job {job.id} ({files}); a rerun resumes it ({options.state_path})")
    return job, False


def run(options: TuneOptions, *, client: Callable[[], Client], wait: Wait, say: Say) -> TuneResult:
    """The tuning of ``options``: ``client()`` is called once (not on a dry run), before the data is
    prepared, so a missing key fails first; ``wait`` waits for the job."""
    settings = options.check()
    made = None if options.dry_run else client()
    hyper = settings["hyperparameters"]
    epochs = epochs_of({"hyperparameters": hyper}) if isinstance(hyper, dict) else None
    prepared = prepare(
        options.data,
        folder=options.folder,
        model=options.model,
        n_epochs=epochs or guide.N_EPOCHS,
        validation_ratio=options.validation_ratio,
        source=options.source,
        fields=options.fields,
        price_per_mtokens=options.price_per_mtokens,
        price_table=options.price_table,
        inputs=dict(options.inputs),
        say=say,
    )
    result = TuneResult(
        model=None,
        job=None,
        training_path=prepared.training_file,
        validation_path=prepared.validation_file,
        cost=prepared.cost,
        changes=prepared.changes,
        dropped=prepared.dropped,
        kept_files=prepared.kept_files,
        state=options.state_path,
        dry_run=made is None,
    )
    if made is None:
        say("dry run: nothing uploaded or created")
        return result
    key = idempotency_key(prepared.training_file, prepared.validation_file, settings)
    job, resumed = _create(made, options, prepared, key, say)
    try:
        job = wait(made, job)
    except JobError as exc:
        failed = exc.job if exc.job is not None else made.jobs.retrieve(job.id)
        path = write_report(
            options.report_path, made, failed, made.jobs.metrics(failed), prepared, comparison=None
        )
        say(f"report: {path}")
        raise
    history = made.jobs.metrics(job)
    comparison: Comparison | None = None
    if options.prompts:
        tuned = job.fine_tuned_model or ""
        say(f"compare: {len(options.prompts)} prompts on {options.model} and {tuned}")
        comparison = made.chat.compare(
            options.prompts, base=(options.model, None), tuned=(tuned, None), checks=options.checks
        )
        say(f"compare: {comparison.summary().splitlines()[0]}")
    path = write_report(options.report_path, made, job, history, prepared, comparison=comparison)
    say(f"report: {path}")
    return dataclasses.replace(
        result,
        model=job.fine_tuned_model,
        job=job,
        training_file=job.training_file,
        validation_file=job.validation_file,
        comparison=comparison,
        report=path,
        resumed=resumed,
    )


def _client() -> Client:
    if not os.environ.get(API_KEY_ENV):
        raise ConfigurationError(NO_KEY)
    return Client()


def tune(
    data: StrPath,
    *,
    model: str,
    eval: StrPath | Iterable[str] | None = None,
    checks: Iterable[CheckLike | str] = (),
    report: StrPath | None = None,
    out: StrPath | None = None,
    dry_run: bool = False,
    hyperparameters: HyperparametersInput = None,
    suffix: str | None = None,
    seed: int | None = None,
    validation_ratio: float = DEFAULT_VALIDATION_RATIO,
    source: SourceName = "auto",
    fields: FieldMap | None = None,
    price_per_mtokens: float | None = None,
    price_table: StrPath | None = None,
    client: Client | None = None,
    on_update: UpdateCallback | None = None,
    on_stage: Say | None = None,
) -> TuneResult:
    """Tune ``model`` on ``data`` (any format :func:`~finetune_sdk.convert_file` reads) and return a
    :class:`TuneResult`.

    Converts the data (every change listed, every rejected record kept with its reason), validates it,
    drops duplicates (kept with the line of their copy), holds out ``validation_ratio`` without leakage,
    and estimates the cost (money when ``price_per_mtokens``, ``FINETUNE_PRICE_PER_MTOKENS`` or a price
    table gives a price); all in ``out`` (default: ``<stem>.tune`` next to ``data``). ``dry_run`` stops
    there, sending nothing. Else it uploads the two files, creates the job, waits for it
    (``on_update(job)`` at every step), compares the tuned model with ``model`` on the prompts of
    ``eval`` (a file of one prompt per line, or the prompts) scored by ``checks`` (checks or their
    names, as ``"ends-with=。"``), and writes ``report`` (default: ``<stem>.report.html`` in ``out``):
    the comparison with the loss curves, or without prompts the job's report. ``on_stage(line)`` hears
    what each stage did.

    Resumable: the uploads and the create carry an idempotency key derived from the prepared bytes and
    the settings (model, hyperparameters, suffix, seed), files already on the server under the same name
    with the same bytes are reused, and ``<stem>.tune.json`` in ``out`` remembers the job, so running it
    again after a crash or Ctrl-C waits for the same job and uploads nothing twice.

    ``client`` defaults to ``Client()`` from the environment; without ``FINETUNE_API_KEY`` a
    :class:`~finetune_sdk.ConfigurationError` names the platform's key and the local emulator. A job
    that fails raises its :class:`~finetune_sdk.JobError` after its report is written.
    """
    prompts, inputs = read_prompts(eval)
    parsed = [parse_check(check) if isinstance(check, str) else check for check in checks]
    options = TuneOptions(
        data=data,
        model=model,
        prompts=prompts,
        checks=parsed,
        report=report,
        out=out,
        dry_run=dry_run,
        hyperparameters=hyperparameters,
        suffix=suffix,
        seed=seed,
        validation_ratio=validation_ratio,
        source=source,
        fields=fields,
        price_per_mtokens=price_per_mtokens,
        price_table=price_table,
        inputs=inputs,
    )
    owned: list[Client] = []

    def make() -> Client:
        if client is not None:
            return client
        owned.append(_client())
        return owned[-1]

    def wait(made: Client, job: FineTuneJob) -> FineTuneJob:
        return made.jobs.wait(job, on_update=on_update)

    try:
        return run(options, client=make, wait=wait, say=on_stage or log_line)
    finally:
        for made in owned:
            made.close()
