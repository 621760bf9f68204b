"""MAGIK-S baseline (config ``ablations.magik``; Supp. Table 6): rules added by the MAGIK-S work."""
