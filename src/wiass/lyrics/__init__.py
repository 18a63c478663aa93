"""Lyrics as side information: symbols, pronunciation, reading lyrics files and writing timings."""
