"""Tests for miro.core.squeeze: squeezing maps back to nm exactly; batching changes nothing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from miro.core.model import MIRO
from miro.core.squeeze import inference_bytes, squeeze, squeeze_many


def fov(seed: int, n: int = 80) -> np.ndarray:
    return np.random.default_rng(seed).uniform([100.0, 300.0], [2100.0, 1800.0], (n, 2))


def constant_model(displacement: tuple[float, float], **kw) -> MIRO:
    """A model whose head ignores the hidden state and always outputs ``displacement``."""
    model = MIRO(width=16, steps=3, **kw)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.copy_(torch.tensor(displacement))
    return model


def test_zero_displacement_returns_the_input():
    coords = fov(0)
    result = squeeze(constant_model((0.0, 0.0)), coords, 0.2, device="cpu")
    np.testing.assert_allclose(result.squeezed_nm, coords, rtol=0, atol=1e-9)
    assert result.class_probs is None


def test_displacement_is_scaled_back_to_nm_per_axis():
    coords = fov(1)
    radius, d = 0.1, (0.5, -0.25)
    result = squeeze(constant_model(d), coords, radius, device="cpu")
    extent = coords.max(0) - coords.min(0)
    expected = coords - radius * np.array(d, dtype=np.float32) * extent
    np.testing.assert_allclose(result.squeezed_nm, expected, rtol=0, atol=1e-6)


def test_a_fixed_scale_pads_instead_of_stretching():
    """``scale_nm``: both axes divided by the same length, so the displacement is r * d * scale
    whatever the FOV's own extent, and a FOV keeps its shape (translation does not matter)."""
    coords = fov(1)
    radius, d, scale = 0.1, (0.5, -0.25), 4000.0
    result = squeeze(constant_model(d), coords, radius, device="cpu", scale_nm=scale)
    expected = coords - radius * np.array(d, dtype=np.float32) * scale
    np.testing.assert_allclose(result.squeezed_nm, expected, rtol=0, atol=1e-4)  # float32
    torch.manual_seed(2)
    model = MIRO(width=16, steps=3)
    here = squeeze(model, coords, radius, device="cpu", scale_nm=scale).squeezed_nm
    shift = np.array([5e4, -7e3])
    there = squeeze(model, coords + shift, radius, device="cpu", scale_nm=scale).squeezed_nm
    np.testing.assert_allclose(there - shift, here, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="scale_nm"):
        squeeze(model, coords, radius, device="cpu", scale_nm=0.0)


def test_batched_equals_one_by_one_and_class_probabilities():
    torch.manual_seed(0)
    model = MIRO(width=16, steps=4, num_classes=3)
    fovs = [fov(2, 50), fov(3, 90), fov(4, 70)]
    together = squeeze_many(model, fovs, 0.25, device="cpu", batch_size=2)
    for coords, result in zip(fovs, together, strict=True):
        alone = squeeze(model, coords, 0.25, device="cpu")
        np.testing.assert_allclose(result.squeezed_nm, alone.squeezed_nm, rtol=0, atol=1e-3)
        assert result.class_probs.shape == (len(coords), 3)
        np.testing.assert_allclose(result.class_probs.sum(1), 1.0, rtol=1e-5)


def test_step_selects_the_recurrent_step():
    torch.manual_seed(1)
    model = MIRO(width=16, steps=4)
    coords = fov(5)
    first = squeeze(model, coords, 0.2, device="cpu", step=0).squeezed_nm
    last = squeeze(model, coords, 0.2, device="cpu", step=-1).squeezed_nm
    assert not np.allclose(first, last)
    with pytest.raises(ValueError, match="step 4 out of range"):
        squeeze(model, coords, 0.2, device="cpu", step=4)


def test_memory_budget_batches_by_size_without_changing_results(caplog, monkeypatch):
    """FOVs are grouped while their estimated memory fits the budget: a tiny budget gives one
    pass per FOV (each above it: warned, squeezed alone), a large one a single pass."""
    import miro.core.squeeze as squeeze_module

    torch.manual_seed(2)
    model = MIRO(width=16, steps=3, num_classes=2)
    fovs = [fov(6, 40), fov(7, 120), fov(8, 60)]
    passes = []
    real = squeeze_module._squeeze_batch
    monkeypatch.setattr(
        squeeze_module,
        "_squeeze_batch",
        lambda model, batch, *a: passes.append(len(batch)) or real(model, batch, *a),
    )
    names = [f"FOV {i} (fov_{i}.csv)" for i in (6, 7, 8)]
    with caplog.at_level("WARNING"):
        alone = squeeze_many(model, fovs, 0.25, device="cpu", memory_mb=1e-3, names=names)
    assert passes == [1, 1, 1]
    assert len(caplog.records) == 3 and "FOV 7 (fov_7.csv): 120 localizations" in caplog.text
    passes.clear()
    together = squeeze_many(model, fovs, 0.25, device="cpu", memory_mb=1024)
    assert passes == [3]
    passes.clear()
    squeeze_many(model, fovs, 0.25, device="cpu", batch_size=2)
    assert passes == [2, 1]
    for a, b in zip(alone, together, strict=True):
        np.testing.assert_allclose(a.squeezed_nm, b.squeezed_nm, rtol=0, atol=1e-3)
        np.testing.assert_allclose(a.class_probs, b.class_probs, rtol=0, atol=1e-5)


def test_inference_bytes_grows_with_edges_and_width():
    assert inference_bytes(256, 1000, 6000) == 4 * 256 * (2 * 6000 + 8 * 1000) + 36 * 6000
    assert inference_bytes(256, 1000, 12000) > inference_bytes(256, 1000, 6000)
    assert inference_bytes(512, 1000, 6000) > inference_bytes(256, 1000, 6000)


def test_errors_name_the_fov():
    model = MIRO(width=8, steps=2)
    with pytest.raises(ValueError, match=r"FOV 3 \(fov_3.csv\): a graph needs at least 3"):
        squeeze_many(
            model, [fov(9), fov(9, 2)], 0.2, device="cpu", names=["a", "FOV 3 (fov_3.csv)"]
        )
    with pytest.raises(ValueError, match="1 names for 2 FOVs"):
        squeeze_many(model, [fov(9), fov(9)], 0.2, device="cpu", names=["a"])
    with pytest.raises(ValueError, match="memory_mb > 0"):
        squeeze_many(model, [fov(9)], 0.2, device="cpu", memory_mb=0)
