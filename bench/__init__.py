"""The benchmark harness behind bench/run (not part of the installed package)."""
