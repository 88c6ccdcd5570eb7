"""The old name of :mod:`kimtools.panels`, kept so that ``from kimtools.widgets import CaseloadPanel`` still works.

New code imports from :mod:`kimtools.panels`.
"""

from .panels import *  # noqa: F401,F403
from .panels import __all__  # noqa: F401
