"""covcore's ``python setup.py coverage`` command (``pip install covcore[setuptools]``)."""
