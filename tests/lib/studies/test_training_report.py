"""Tests for miro.studies.training_report: loss curves per trained model, the training table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from miro.core.training import LOSS_COLUMNS
from miro.outputs.figures import save_figure
from miro.studies.magik import losses_table
from miro.studies.training_report import (
    MIRO_CURVES,
    STAGE_CURVES,
    TRAINING_COLUMNS,
    loss_curves,
    loss_figure,
    read_losses,
    settings_text,
    training_table,
)

TRAIN = {"architecture": "miro", "width": 8, "steps": 3, "k_star": None, "lr": 1e-4, "seed": 0}


def miro_losses(epochs: int = 5) -> pd.DataFrame:
    """A MIRO losses file without a class head (L_ce 0 at every epoch)."""
    l_r = 0.5 * 0.8 ** np.arange(epochs)
    l_d = 2.0 * 0.7 ** np.arange(epochs)
    return pd.DataFrame(
        {
            "epoch": np.arange(1, epochs + 1),
            "loss": l_r + l_d,
            "L_r": l_r,
            "L_d": l_d,
            "L_ce": 0.0,
            "seconds": 1.5,
        },
        columns=LOSS_COLUMNS,
    )


def magik_losses() -> pd.DataFrame:
    rows = [{"epoch": e, "loss": 0.7 / e, "seconds": 2.0} for e in (1, 2, 3)]
    return losses_table({"stage1": rows, "stage2": [r | {"loss": r["loss"] / 2} for r in rows]})


def test_read_losses_round_trips_both_formats(tmp_path):
    for name, table in {"miro": miro_losses(), "magik": magik_losses()}.items():
        path = tmp_path / f"{name}.csv"
        table.to_csv(path, index=False)
        pd.testing.assert_frame_equal(read_losses(path), table, check_dtype=False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a losses CSV"),
        ("epoch,loss\n1,0.5\n", r"missing columns \['L_r', 'L_d', 'L_ce', 'seconds'\]"),
        (",".join(LOSS_COLUMNS) + "\n", "no epoch recorded"),
        (",".join(LOSS_COLUMNS) + "\n1,0.5,x,0.1,0,1\n", "column 'L_r' holds non-numeric"),
        (",".join(LOSS_COLUMNS) + "\n2,0.5,0.4,0.1,0,1\n", r"epochs are not 1, 2, \.\.\., 1"),
        ("stage,epoch,loss,seconds\nstage3,1,0.5,1\n", "unknown stage 'stage3'"),
        ("stage,epoch,loss,seconds\nstage1,1,0.5,1\nstage1,1,0.4,1\n", "epochs of stage1"),
    ],
    ids=["empty", "columns", "no-epoch", "non-numeric", "epochs", "stage", "stage-epochs"],
)
def test_a_malformed_losses_file_is_rejected_naming_it(tmp_path, text, message):
    path = tmp_path / "run" / "losses.csv"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as err:
        read_losses(path)
    assert str(path) in str(err.value)


def test_curves_carry_the_paper_names():
    curves = loss_curves(miro_losses())
    assert list(curves.columns) == list(MIRO_CURVES.values())  # the total first
    assert list(curves.index) == [1, 2, 3, 4, 5]
    stages = loss_curves(magik_losses())
    assert list(stages.columns) == list(STAGE_CURVES.values())
    assert stages.iloc[1].tolist() == pytest.approx([0.35, 0.175])


def test_settings_text_names_the_recorded_settings_in_order():
    assert settings_text(TRAIN) == "miro, width 8, steps 3, Adam lr 0.0001, seed 0"
    assert settings_text({"width": 8, "layers": 2, "heads": 2}) == "width 8, layers 2, heads 2"


def texts(fig):
    ax = fig.axes[0]
    return [t.get_text() for t in ax.texts], ax.get_title(), fig.get_suptitle()


def test_figure_draws_the_total_and_non_zero_terms_on_a_log_scale(tmp_path):
    fig = loss_figure(miro_losses(), "S8", "miro", TRAIN, n_graphs=8)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == [MIRO_CURVES[c] for c in ("loss", "L_r", "L_d")]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch"
    notes, title, suptitle = texts(fig)
    assert notes == [f"0 at every epoch, not drawn: {MIRO_CURVES['L_ce']}"]  # no class head
    assert suptitle == "S8 / miro"
    assert title == f"{settings_text(TRAIN)}\n5 epochs, 7.5 s training, 8 graphs"
    path = tmp_path / "losses" / "S8_miro.png"
    save_figure(fig, path)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 500 and image.size[1] > 300


def test_figure_of_one_epoch_of_magik_s_or_without_positive_loss(tmp_path):
    fig = loss_figure(miro_losses(1), "S8", "miro", TRAIN)
    assert texts(fig)[1].endswith("\n1 epoch, 1.5 s training")
    magik = loss_figure(magik_losses(), "S8", "magik", {"width": 8}, n_graphs=8)
    labels = [line.get_label() for line in magik.axes[0].get_lines()]
    assert labels == list(STAGE_CURVES.values()) and not texts(magik)[0]
    zero = loss_figure(miro_losses().assign(loss=0.0, L_r=0.0, L_d=0.0), "S8", "x", TRAIN)
    assert not zero.axes[0].get_lines() and zero.axes[0].get_yscale() == "linear"
    save_figure(zero, tmp_path / "zero.png")
    assert (tmp_path / "zero.png").stat().st_size > 0


def test_training_table_one_row_per_model():
    miro = miro_losses()
    table = training_table([("S8", "miro", miro, 8), ("S8", "magik", magik_losses(), None)])
    assert list(table.columns) == list(TRAINING_COLUMNS)
    first, second = table.iloc[0], table.iloc[1]
    assert first[["dataset", "run", "epochs", "n_graphs"]].tolist() == ["S8", "miro", 5, 8]
    assert first["final_loss"] == pytest.approx(miro["loss"].iloc[-1])
    assert first["min_loss"] == pytest.approx(miro["loss"].min())
    assert first["train_seconds"] == pytest.approx(7.5)
    # MAGIK-S: the stages' losses summed per epoch, the time of both stages
    assert second["epochs"] == 3 and pd.isna(second["n_graphs"])
    assert second["final_loss"] == pytest.approx(0.35) and second["min_loss"] == pytest.approx(0.35)
    assert second["train_seconds"] == pytest.approx(12.0)
    assert training_table([]).columns.tolist() == list(TRAINING_COLUMNS)
