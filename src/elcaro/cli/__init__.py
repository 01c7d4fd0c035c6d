"""The ``elcaro`` command line."""
