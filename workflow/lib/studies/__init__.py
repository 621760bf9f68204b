"""Studies beyond Table 1: shapes, multiscale, adjacent clusters, ablations and MAGIK-S (paper
Figs. 3-5, Supplementary material)."""
