"""``python -m whynet`` and the ``whynet`` script: the command line of :mod:`whynet.cli`."""

import sys


def run() -> None:
    """:func:`whynet.cli.main`, also when Ctrl-C comes while its modules are still being
    imported (about a second): one ``interrupted`` line and exit status 130, not a traceback.
    Hence the import inside the function, the one place where it cannot be at the top."""
    try:
        from .cli import main
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    main(prog_name="whynet")


if __name__ == "__main__":
    run()
