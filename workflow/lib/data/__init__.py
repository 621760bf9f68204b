"""Data: localization files, the benchmark, simulations, the train/test split and few-shot
augmentation (paper Methods, "Datasets" and "Training data augmentation")."""
