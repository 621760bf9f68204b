"""Data: localization files, the benchmark, simulations, the train/test split and few-shot
augmentation (paper Methods, "Simulated data", "Experimental data" and "MIRO training and
augmentations")."""
