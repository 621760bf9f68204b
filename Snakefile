"""Entry point at the repository root: the workflow is workflow/Snakefile (the Snakemake
workflow catalog's layout); `snakemake` here and `snakemake -s workflow/Snakefile` run the same.
"""


include: "workflow/Snakefile"


# an included file's `default_target: True` does not carry over to the file that includes it
workflow.default_target = "all"
