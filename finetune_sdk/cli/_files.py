"""``finetune upload`` and ``finetune files list|get|delete``."""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from pathlib import Path

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from .._core.upload import ProgressCallback
from ..types import FileObject
from ._output import (
    DATASET_FILE,
    columns,
    echo,
    json_option,
    key_values,
    print_json,
    safe_markup,
    stderr,
    when,
)
from ._state import State, pass_state

__all__ = ["files", "upload"]


@contextlib.contextmanager
def _upload_bar(name: str) -> Generator[ProgressCallback | None, None, None]:
    """An ``on_progress`` drawing a bar on stderr, or None when stderr is not a terminal."""
    console = stderr()
    if not console.is_terminal:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"uploading {safe_markup(name)}", total=None)  # a file name, as all text

        def update(sent: int, total: int) -> None:
            progress.update(task, completed=sent, total=total)

        yield update


def _file_row(file: FileObject) -> tuple[object, ...]:
    return (file.id, file.bytes, file.filename, when(file.created_at))


@click.command()
@click.argument("file", type=DATASET_FILE)
@click.option("--no-validate", is_flag=True, help="Send the file without checking it first.")
@json_option
@pass_state
def upload(state: State, file: Path, no_validate: bool, as_json: bool) -> None:
    """Check a dataset, upload it and print its file id."""
    client = state.client()
    with _upload_bar(file.name) as on_progress:
        uploaded = client.files.upload(file, validate=not no_validate, on_progress=on_progress)
    if as_json:
        print_json(uploaded)
    else:
        echo(uploaded.id)


@click.group()
def files() -> None:
    """Uploaded files: upload, list, get, delete."""


files.add_command(upload)


@files.command("list")
@json_option
@pass_state
def list_files(state: State, as_json: bool) -> None:
    """One line per file: id, bytes, filename, created."""
    found = list(state.client().files.list())
    if as_json:
        print_json(found)
    else:
        columns(_file_row(file) for file in found)


@files.command("get")
@click.argument("file_id")
@json_option
@pass_state
def get_file(state: State, file_id: str, as_json: bool) -> None:
    """Show one file."""
    file = state.client().files.retrieve(file_id)
    if as_json:
        print_json(file)
        return
    key_values(
        [
            ("id", file.id),
            ("filename", file.filename),
            ("bytes", file.bytes),
            ("purpose", file.purpose),
            ("created", when(file.created_at)),
        ]
    )


@files.command("delete")
@click.argument("file_id")
@json_option
@pass_state
def delete_file(state: State, file_id: str, as_json: bool) -> None:
    """Delete a file."""
    deleted = state.client().files.delete(file_id)
    if as_json:
        print_json(deleted)
    else:
        echo(f"{deleted.id} deleted" if deleted.deleted else f"{deleted.id} not deleted")
