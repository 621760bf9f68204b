"""Rule classify_shapes: shape class of every predicted MIRO cluster on the test FOVs, and the
confusion matrix with per-class F1 over the true-positive cluster pairs (paper Fig. 3)."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)

from miro.config import execution_settings
from miro.core.checkpoint import load_checkpoint
from miro.core.squeeze import squeeze_many
from miro.data.fovs import load_fovs, read_per_fov, write_per_fov
from miro.data.split import read_split
from miro.files import write_csv_atomic
from miro.runlog import script_logging
from miro.studies.shapes import check_class_head, classify_fovs, confusion_table, macro_f1

DEVICE = execution_settings(snakemake.config)["device"]

with script_logging(snakemake.log[0]) as log:
    names = snakemake.params.names
    checkpoint = load_checkpoint(snakemake.input.model)
    model = checkpoint.model
    check_class_head(snakemake.input.model, model.num_classes, checkpoint.class_names, names)
    fovs = load_fovs(snakemake.input.fovs, read_split(snakemake.input.split)["test"])
    coords = [frame[["x", "y"]].to_numpy() for frame in fovs.values()]
    results = squeeze_many(model, coords, checkpoint.radius, device=DEVICE)
    probs = {fov: r.class_probs for fov, r in zip(fovs, results, strict=True)}
    labels = read_per_fov(snakemake.input.labels, ["label"])
    classes, pairs = classify_fovs(fovs, labels, probs)
    table = confusion_table(pairs, names)
    log.info("%d paired clusters; macro F1 %.3f\n%s", len(pairs), macro_f1(table), table)
    write_per_fov(classes, ["class"], snakemake.output.classes)
    write_csv_atomic(pairs, snakemake.output.pairs)
    write_csv_atomic(table.reset_index(), snakemake.output.confusion)
