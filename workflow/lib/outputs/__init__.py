"""Outputs: tables and figures written from metrics (paper Table 1, Figs. 2-5)."""
