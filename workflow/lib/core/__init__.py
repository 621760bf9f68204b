"""Core: graphs, the MIRO network, its loss, training, checkpoints and the squeeze (paper Methods,
"MIRO graph representation", "MIRO architecture", "MIRO loss function", "MIRO training and
augmentations"). Imports nothing from the other subpackages."""
