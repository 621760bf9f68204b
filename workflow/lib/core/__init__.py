"""Core: graphs, the MIRO network, its loss, training, checkpoints and the squeeze (paper Methods,
"MIRO"). Depends on nothing above it in the package."""
