"""miro-workflow: MIRO + DBSCAN on SMLM benchmarks and simulations, from data to Table 1."""

from snakemake.utils import min_version, validate

min_version("9.0")


if not config:

    configfile: "config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/apply.smk"
include: "workflow/rules/experiments.smk"
include: "workflow/rules/ablations.smk"
include: "workflow/rules/magik.smk"


report: "workflow/report/workflow.rst"


rule all:
    default_target: True
    input:
        final_outputs(),
        apply_outputs(),
        experiment_outputs(),
        ablation_outputs(),
