"""``python -m taskchart``: the ``taskchart`` command, for when the script is not on PATH."""

from taskchart.adapters.console.cli import main

main()
