"""covcore for nox (``pip install covcore[nox]``): measured sessions and a
combine/report session for noxfiles."""
