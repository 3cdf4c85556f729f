"""covcore's tox 4 plugin (``pip install covcore[tox]``): ``tox -e py311``
measures coverage, combined and reported once all environments finish."""
