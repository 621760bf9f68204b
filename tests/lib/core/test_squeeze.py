"""Tests for miro.core.squeeze: squeezing maps back to nm exactly; batching changes nothing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from miro.core.model import MIRO
from miro.core.squeeze import squeeze, squeeze_many


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
