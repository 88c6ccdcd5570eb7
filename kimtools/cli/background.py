"""The one background process the command starts: the results prepared once per data state (``kimtools
vorbereiten``), after an import and when serving."""

from __future__ import annotations

import os
import subprocess
import sys

__all__ = ["warm_in_background"]


def warm_in_background(store) -> bool:
    """Prepare what the pages compute once per data state (the planning page's forecasts, the comparison of the
    store's own kommunen as their bundles would show them) where the data changed, in a process of lowest priority
    that ends by itself, so that no visitor waits for it (one who comes earlier computes it at once; either way once
    per data state). After an import and when serving; ``KIMTOOLS_VORBEREITEN=0`` leaves it to the pages."""
    if os.environ.get("KIMTOOLS_VORBEREITEN", "1") == "0":
        return False
    subprocess.Popen([sys.executable, "-c", "import sys; from kimtools.cli import main; sys.exit(main(sys.argv[1:]))",
                      "vorbereiten", "--db", str(store.path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, preexec_fn=lambda: os.nice(19), start_new_session=True)
    return True
