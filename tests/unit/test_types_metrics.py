"""``MetricsHistory``: read from OpenAI's and the platform's metrics files, gathered from events, written
back as CSV (round trip) and JSON."""

from __future__ import annotations

import orjson
import pytest

from finetune_sdk.types import JobEvent, MetricsHistory, MetricsRow

OPENAI = """step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy
1,2.1,0.35,,
2,1.5,0.5,1.6,0.48
3,1.0,0.61,,
"""


def test_openais_columns_read_with_gaps_as_none() -> None:
    history = MetricsHistory.from_csv(OPENAI)
    assert len(history) == 3 and [row.step for row in history] == [1, 2, 3]
    assert history[0].valid_loss is None and history[1].valid_loss == 1.6
    assert history[-1].epoch is None and history[-1].learning_rate is None
    assert history.column("valid_loss") == [(2, 1.6)]
    assert isinstance(history[1:], MetricsHistory) and len(history[1:]) == 2


def test_any_order_aliases_a_bom_and_extra_columns_kept() -> None:
    text = (
        "\ufeffepoch,train_mean_token_accuracy,step,train_loss,full_valid_loss,learning_rate\n"
        "1,0.4,2,1.5,1.7,1e-05\n1,0.3,1,2.0,,2e-05\n"
    )
    history = MetricsHistory.from_csv(text)
    assert [row.step for row in history] == [1, 2]  # sorted by step
    assert history[1].train_accuracy == 0.4 and history[1].epoch == 1.0
    assert history[1].model_extra == {"full_valid_loss": "1.7"}  # kept as text
    assert history[0].model_extra == {}  # an empty extra cell is not kept
    assert MetricsHistory.from_csv(history.to_csv()) == history


def test_the_csv_round_trips_exactly() -> None:
    rows = [
        MetricsRow(
            step=s, epoch=1 + s // 3, train_loss=2 / (s + 1), train_accuracy=0.1 * s, learning_rate=1e-4
        )
        for s in range(1, 7)
    ]
    history = MetricsHistory(
        [*rows[:2], rows[2].model_copy(update={"valid_loss": 0.123456789012345}), *rows[3:]]
    )
    text = history.to_csv()
    assert text.splitlines()[0] == (
        "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy,epoch,learning_rate"
    )
    assert MetricsHistory.from_csv(text) == history
    assert orjson.loads(history.to_json())[2]["valid_loss"] == 0.123456789012345


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("train_loss\n1.0\n", "line 1: a metrics file needs a step column"),
        ("step,train_loss\n1,abc\n", "line 2: train_loss is not a number: 'abc'"),
        ("step,train_loss\n1.5,1\n", "line 2: step must be a whole number"),
        ("step,train_loss\n1,1\n2,1,9\n", "line 3: 3 cells under 2 columns"),
    ],
)
def test_a_bad_file_names_the_line(text: str, says: str) -> None:
    with pytest.raises(ValueError, match="^" + says.replace("(", r"\(")):
        MetricsHistory.from_csv(text)


def test_gathered_from_events_one_row_per_step() -> None:
    def event(n: int, **data: object) -> JobEvent:
        return JobEvent.model_validate({"id": f"e{n}", "created_at": n, "message": "m", "data": data})

    events = [
        event(0),
        event(1, step=1, train_loss=2.0, epoch=1, train_mean_token_accuracy=0.3, learning_rate=5e-5),
        event(2, step=2, train_loss=1.5, epoch=1),
        event(3, step=2, valid_loss=1.6, valid_mean_token_accuracy=0.5),  # the evaluation, apart
        event(4, step=2.0, train_loss=1.4),  # a later value wins
        event(5, step="x", train_loss=9.0),  # not a step: not a row
    ]
    history = MetricsHistory.from_events(events)
    assert [row.step for row in history] == [1, 2]
    assert history[0].train_accuracy == 0.3 and history[0].learning_rate == 5e-5
    assert (history[1].train_loss, history[1].valid_loss, history[1].epoch) == (1.4, 1.6, 1.0)
    assert MetricsHistory.from_csv(history.to_csv()) == history


def test_an_unknown_column_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown column 'loss'"):
        MetricsHistory.from_csv(OPENAI).column("loss")
