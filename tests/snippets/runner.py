"""Imports every snippet module given on the command line (their code runs on import)."""

import importlib
import sys

for name in sys.argv[1:]:
    importlib.import_module(name)
