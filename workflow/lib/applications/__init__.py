"""Applications: MIRO on users' own files, the command line and the authors' published weights."""
