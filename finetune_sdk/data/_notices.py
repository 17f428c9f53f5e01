"""The warnings about duplicates and about examples too long for ``max_tokens``."""

from __future__ import annotations

from .._text import plural
from ._repeats import DuplicateCounter
from ._schema import ValidationIssue
from ._stats import StatsBuilder

__all__ = ["duplicate_warnings", "token_warnings"]


def duplicate_warnings(found: DuplicateCounter) -> list[ValidationIssue]:
    """The ``duplicate_examples`` and ``duplicate_prompts`` warnings, when there are any."""
    warnings: list[ValidationIssue] = []
    examples, exact = found.examples, found.exact
    if examples.first_repeat is not None:
        line, earlier = examples.first_repeat
        copies = f"{exact.count} exact {'copy' if exact.count == 1 else 'copies'}"
        others = examples.count - exact.count
        more = f", {others} more once Unicode and white space are normalised" if others else ""
        warnings.append(
            ValidationIssue(
                line=line,
                code="duplicate_examples",
                message=f"{plural(examples.count, 'example')} "
                f"{'repeats' if examples.count == 1 else 'repeat'} an earlier one ({copies}{more}; first at "
                f"line {line}, the same as line {earlier}): "
                "duplicates weigh more in training and leak between a training and a validation split; "
                "drop them with `finetune dedupe` or Dataset.dedupe()",
            )
        )
    prompts = found.prompts
    if prompts.first_repeat is not None:
        line, earlier = prompts.first_repeat
        verb = "starts" if prompts.count == 1 else "start"
        warnings.append(
            ValidationIssue(
                line=line,
                code="duplicate_prompts",
                message=f"{plural(prompts.count, 'example')} {verb} with the same user prompt as an earlier "
                f"one (first at line {line}, the same as line {earlier}): keep them on one side of a split "
                'with split(group_by="prompt") (`finetune split` does)',
            )
        )
    return warnings


def token_warnings(stats: StatsBuilder) -> list[ValidationIssue]:
    """The ``over_max_tokens`` warning: from the exact counts when there are some, else from the estimate
    (and then it says so, and how to get the exact count)."""
    exact = stats.exact
    if exact is not None:
        if not exact.over:
            return []
        more = ", ..." if exact.over > len(exact.over_lines) else ""
        lines = ", ".join(map(str, exact.over_lines)) + more
        return [
            ValidationIssue(
                line=exact.over_lines[0],
                code="over_max_tokens",
                message=f"{plural(exact.over, 'example')} {'is' if exact.over == 1 else 'are'} longer than "
                f"max_tokens={stats.max_tokens} in exact Qwen2.5 tokens (lines {lines}; the longest "
                f"{exact.longest} tokens at line {exact.longest_line}): they would be truncated; shorten or "
                "split them, or raise max_tokens",
            )
        ]
    if not stats.over:
        return []
    return [
        ValidationIssue(
            line=stats.first_over_line,
            code="over_max_tokens",
            message=f"{plural(stats.over, 'example')} {'is' if stats.over == 1 else 'are'} estimated longer "
            f"than max_tokens={stats.max_tokens} (first at line {stats.first_over_line}, the longest "
            f"~{stats.longest_tokens} tokens at line {stats.longest_line}): they would be truncated; shorten "
            "or split them, or raise max_tokens. This is an estimate (within ~20% on most text): for the "
            'exact count use tokens="exact" or `finetune stats --exact` (pip install "finetune-sdk[tokens]")',
        )
    ]
