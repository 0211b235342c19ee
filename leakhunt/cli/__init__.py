"""The command-line layer: the only part of leakhunt that prints or exits."""
