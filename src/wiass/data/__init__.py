"""Datasets: track sources (stems folders, MUSDB18), training excerpts, the synthetic generator."""
