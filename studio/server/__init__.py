"""The studio's own HTTP and websocket server: Daphne with the limits a
public server needs (see :mod:`studio.server.edge`).

``python -m studio.server`` takes Daphne's command-line options; ``manage.py
runserver`` serves through the same classes.
"""
