"""``python -m finetune_sdk.cli``: the same as the ``finetune`` command."""

from . import main

if __name__ == "__main__":
    main()
