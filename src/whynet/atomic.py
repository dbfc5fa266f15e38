"""Write a file whole or not at all.

:func:`replacing` opens a temporary sibling of the target (``NAME.tmp``) and renames it onto the
target when the block ends well; on an error or Ctrl-C it removes the temporary file. A reader
never sees a half-written file, and an earlier file at the target survives a failed write.
(click's ``atomic=True`` renames even after an error, so whynet does not use it.)
"""

from __future__ import annotations

import contextlib
from pathlib import Path


@contextlib.contextmanager
def replacing(path: Path | str, mode: str = "w"):
    """A stream to ``path + ".tmp"`` (``mode`` ``"w"``: UTF-8 text, ``"wb"``: bytes), renamed to
    ``path`` when the block ends without an exception, deleted when it does not."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as stream:
            yield stream
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
