"""From a raw export to a tuned model and its report in one call: :func:`tune`.

``tune("chats.json", model="Qwen/Qwen2.5-7B-Instruct", eval="prompts.txt")`` converts, validates,
dedupes and splits the data, prices it, uploads it, creates the job, waits for it, compares the tuned
model with the base model and writes a report; it returns a :class:`TuneResult`. A rerun after a crash
or Ctrl-C resumes the same job (see :func:`tune`). ``finetune tune`` is the same on the command line.
"""

from ._result import TuneResult
from ._run import NO_KEY, tune

__all__ = ["NO_KEY", "TuneResult", "tune"]
