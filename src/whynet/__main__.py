"""``python -m whynet``: the same command line as the ``whynet`` script."""

from .cli import main

if __name__ == "__main__":
    main(prog_name="whynet")
