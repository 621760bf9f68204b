"""Evaluation: DBSCAN and its tuning, the benchmark metrics, paired statistics, and the one
evaluation pipeline that every study shares (paper Methods, "Metrics for performance
evaluation", "DBSCAN parameter selection")."""
