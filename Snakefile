"""miro-workflow: MIRO + DBSCAN on SMLM benchmarks and simulations, from data to Table 1."""

from snakemake.utils import min_version

from miro.config import load_settings, read_config

min_version("9.0")


# config.yaml (next to this Snakefile) is the default config; --configfile FILE replaces it (its
# datasets are not merged with config.yaml's); --config KEY=VALUE overrides keys of either.
# miro.config.load_settings validates, defaults and checks the result before any job.
CONFIG_FILES = [str(path) for path in workflow.overwrite_configfiles]
if not CONFIG_FILES:
    CONFIG_FILES = [f"{workflow.basedir}/config.yaml"]
    read_config(CONFIG_FILES[0])  # a YAML error with its line and column

    configfile: CONFIG_FILES[0]


SETTINGS = load_settings(config, source=", ".join(CONFIG_FILES))


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/landscape.smk"
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
        training_outputs(),
        landscape_outputs(),
