"""Evaluation: DBSCAN and its tuning, the benchmark metrics, paired statistics, and the one
evaluation pipeline that every study shares (paper Methods, "Evaluation metrics")."""
