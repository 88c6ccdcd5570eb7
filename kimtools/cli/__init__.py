"""The ``kimtools`` command: one module per command group, each loaded only when its command runs.

``main`` (:mod:`.main`) parses the command line (:mod:`.parser`, its words German and English in
``cli_help.toml``), runs the command's handler and turns every failure into a message and an exit status: 0 done;
1 bad input (:class:`~kimtools.errors.InputError` and every other refusal: a value or file that does not fit;
nothing stored changed); 2 the command line's form (:class:`~kimtools.errors.UsageError` and argparse, whose
messages are German too). Every argument is NFC-normalised before it is parsed. ``--lang en`` or
``KIMTOOLS_LANG=en`` switches to English.

| module | commands |
|---|---|
| :mod:`.importing` | ``import``, ``profil``, ``bezirke``, ``demo`` |
| :mod:`.stored` | ``info``, ``loeschen`` |
| :mod:`.tables` | ``indicators``, ``luecken`` |
| :mod:`.exchange` | ``export``, ``compare`` |
| :mod:`.reports` | ``report``, ``sitzung`` |
| :mod:`.serve` | ``serve``, ``vorbereiten`` (Voilà's command line: :func:`kimtools.serving.voila_command`) |
"""

from .main import main
from .parser import build_parser

__all__ = ["main", "build_parser"]
