"""Tests for miro.applications.published: importing the authors' checkpoints reproduces their
forward pass."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
import torch

from miro.applications.published import (
    PublishedError,
    checkpoint_path,
    convert_published,
    fetch_published,
    load_manifest,
    load_published,
)
from miro.config import published_models
from miro.core.checkpoint import load_checkpoint, parameter_count
from miro.core.graph import fov_graph
from miro.core.squeeze import squeeze
from miro.data.benchmark import FOLDERS
from miro.data.cache import ChecksumError
from miro.data.simulate import simulate_fov

PATH = "benchmark/models/model_scenario_8.pt"
MULTISHAPE = "multishape/models/checkpoint.pt"
PARAMETERS = 528_386  # the published width-256 network without class head
NODE_ENC = "model.encoder.0.blocks.0.layer"
EDGE_ENC = "model.encoder.1.blocks.0.layer"
NODE_COMB = "model.backbone.layer.0.0.blocks.0.layer"
EDGE_COMB = "model.backbone.layer.0.1.blocks.0.layer"
MESSAGE = "model.backbone.layer.1.blocks.0.transform.layer"
UPDATE = "model.backbone.layer.1.blocks.0.update.blocks.0.layer"
HEAD = "model.backbone.head.blocks.0.layer"


def published_weights(
    width: int, seed: int = 0, num_classes: int = 0
) -> OrderedDict[str, torch.Tensor]:
    """Random weights with the published key names, order and (out, in) shapes; the head has
    2 displacement outputs and ``num_classes`` class logits."""
    sizes = [  # (layer, out, in), docs/reference.md#model
        (NODE_ENC, width, 5),
        (EDGE_ENC, width, 3),
        (NODE_COMB, width, 2 * width),
        (EDGE_COMB, width, 2 * width),
        (MESSAGE, width, 3 * width),
        (UPDATE, width, width),
        (HEAD, 2 + num_classes, width),
    ]
    gen = torch.Generator().manual_seed(seed)
    weights = OrderedDict()
    for layer, n_out, n_in in sizes:
        bound = n_in**-0.5  # nn.Linear's initial scale keeps 12 steps of activations moderate
        weights[f"{layer}.weight"] = (torch.rand(n_out, n_in, generator=gen) * 2 - 1) * bound
        weights[f"{layer}.bias"] = (torch.rand(n_out, generator=gen) * 2 - 1) * bound
    return weights


def published_forward(p, x, edge_index, edge_attr, steps: int) -> torch.Tensor:
    """The published MIRO block written out with the published key names
    (docs/reference.md#published-weights): the head's outputs (steps, N, 2 + C) at every step,
    the displacement then the class logits."""

    def linear(layer, inputs):
        return inputs @ p[f"{layer}.weight"].T + p[f"{layer}.bias"]

    sender, receiver = edge_index
    v_enc, e_enc = linear(NODE_ENC, x), linear(EDGE_ENC, edge_attr)
    u, f = torch.zeros_like(v_enc), torch.zeros_like(e_enc)
    displacements = []
    for _ in range(steps):
        h = linear(NODE_COMB, torch.cat([u, v_enc], dim=1))
        e = linear(EDGE_COMB, torch.cat([f, e_enc], dim=1))
        f = torch.relu(linear(MESSAGE, torch.cat([h[sender], h[receiver], e], dim=1)))
        u = torch.relu(linear(UPDATE, torch.zeros_like(u).index_add(0, receiver, f)))
        displacements.append(linear(HEAD, u))
    return torch.stack(displacements)


def save_published(weights, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(weights, path)
    return path


def manifest_for(tmp_path: Path, file: Path, path_in_repo: str = PATH) -> pd.DataFrame:
    """A one-row manifest TSV for ``file`` (written, then read back through load_manifest)."""
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    tsv = tmp_path / "manifest.tsv"
    tsv.write_text(f"path\tbytes\tsha256\n{path_in_repo}\t{file.stat().st_size}\t{digest}\n")
    return load_manifest(tsv)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def small(tmp_path):
    """A width-16 published-layout checkpoint in a local folder, with its manifest."""
    file = save_published(published_weights(16), tmp_path / "local" / "model_scenario_8.pt")
    return file, manifest_for(tmp_path, file)


def test_checkpoint_paths_cover_every_benchmark_folder(repo_root):
    manifest = load_manifest(repo_root / "resources" / "published_checkpoints.tsv")
    assert checkpoint_path("Ground Truth - Scenario 8") == PATH
    assert checkpoint_path("Multiple Blinking - Scenario 10") == (
        "benchmark/models/model_scenario_10_blinking.pt"
    )
    paths = {checkpoint_path(folder) for folder in FOLDERS}
    assert len(paths) == len(FOLDERS)
    assert paths <= set(manifest["path"])
    for folder in ("Ground Truth - Scenario 1", "C-shaped", None):
        with pytest.raises(ValueError, match="no published MIRO model"):
            checkpoint_path(folder)


def test_bad_manifest_names_the_file(tmp_path):
    tsv = tmp_path / "manifest.tsv"
    row = f"{PATH}\t3\t{'a' * 64}\n"
    for text, message in [
        ("", "cannot read the published-checkpoint manifest"),
        (f"path\tbytes\tsha256\n{row}{row}", f"{PATH} is listed twice"),
    ]:
        tsv.write_text(text)
        with pytest.raises(PublishedError, match=message) as info:
            load_manifest(tsv)
        assert str(tsv) in str(info.value)


def test_imported_model_equals_published_forward(tmp_path, benchmark_dir):
    frame = pd.read_csv(benchmark_dir / "Ground Truth - Scenario 8" / "diffden_MoleculeList_1.csv")
    graph = fov_graph(frame[["x", "y"]].to_numpy(), 0.2)[0]
    weights = published_weights(256)
    local = save_published(weights, tmp_path / "copy" / "model_scenario_8.pt")
    manifest = manifest_for(tmp_path, local)

    raw = fetch_published(PATH, tmp_path / "raw.pt", manifest=manifest, local_file=local)
    info = {"repo": "DeepTrackAI/MIRO", "commit": "c0ffee", "path": PATH}
    convert_published(raw, tmp_path / "published.pt", steps=12, radius=0.2, source_info=info)
    checkpoint = load_checkpoint(tmp_path / "published.pt")
    model = checkpoint.model

    expected = {"source": "published", **info, "sha256": manifest["sha256"][0]}
    assert checkpoint.train == expected | {"k_star": None, "class_names": []}
    assert checkpoint.radius == 0.2 and checkpoint.fov_nm is None and checkpoint.k_star is None
    assert (model.width, model.steps, model.num_classes) == (256, 12, 0)
    assert sum(p.numel() for p in model.parameters()) == 528_386
    with torch.no_grad():
        ours = model(graph.x, graph.edge_index, graph.edge_attr).displacements
        reference = published_forward(weights, graph.x, graph.edge_index, graph.edge_attr, 12)
    assert ours.shape == (12, graph.num_nodes, 2)
    assert reference.abs().max() > 1e-3  # the comparison is not between two near-zero outputs
    torch.testing.assert_close(ours, reference, rtol=0, atol=1e-5)


def test_loading_does_not_draw_random_numbers(small):
    state = torch.get_rng_state()
    load_published(small[0], steps=3)
    assert torch.equal(torch.get_rng_state(), state)


def test_download_from_a_server_with_the_repository_layout(tmp_path, small):
    file, manifest = small
    served = tmp_path / "served" / PATH
    served.parent.mkdir(parents=True)
    served.write_bytes(file.read_bytes())
    handler = partial(QuietHandler, directory=str(tmp_path / "served"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        got = fetch_published(PATH, tmp_path / "dl.pt", manifest=manifest, base_url=url, retries=0)
        assert got.read_bytes() == file.read_bytes()
        assert load_published(got, steps=2).width == 16
        served.write_bytes(served.read_bytes()[:-1])  # truncated upstream file, empty cache
        with pytest.raises(ChecksumError, match=PATH):
            fetch_published(
                PATH,
                tmp_path / "bad.pt",
                manifest=manifest,
                base_url=url,
                cache_dir=tmp_path / "empty-cache",
                retries=0,
            )
        assert not (tmp_path / "bad.pt").exists()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_offline_download_says_to_use_a_local_copy(tmp_path, small, closed_port_url):
    url = closed_port_url
    with pytest.raises(PublishedError, match="published_file") as err:
        fetch_published(PATH, tmp_path / "dl.pt", manifest=small[1], base_url=url, retries=0)
    assert f"{url}/{PATH}" in str(err.value)
    assert not (tmp_path / "dl.pt").exists()


def test_local_copy_is_verified(tmp_path, small):
    file, manifest = small
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0x01  # same size, other sha256
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match=r"corrupt\.pt"):
        fetch_published(PATH, tmp_path / "out.pt", manifest=manifest, local_file=corrupt)
    with pytest.raises(PublishedError, match=r"missing\.pt"):
        fetch_published(PATH, tmp_path / "out.pt", manifest=manifest, local_file="missing.pt")
    with pytest.raises(PublishedError, match="not listed"):
        fetch_published("other.pt", tmp_path / "out.pt", manifest=manifest, local_file=file)
    assert not (tmp_path / "out.pt").exists()


def _drop(w):
    del w[f"{HEAD}.bias"]


def _add(w):
    w["model.backbone.classifier.blocks.0.layer.weight"] = torch.zeros(3, 16)


def _reshape(w):
    w[f"{MESSAGE}.weight"] = w[f"{MESSAGE}.weight"][:, :-1]


def _nan(w):
    w[f"{UPDATE}.bias"][3] = float("nan")


def _classes(w):
    w[f"{HEAD}.weight"] = torch.zeros(6, 16)  # a class head, claimed as a benchmark model
    w[f"{HEAD}.bias"] = torch.zeros(6)


def _integer(w):
    w[f"{EDGE_ENC}.weight"] = w[f"{EDGE_ENC}.weight"].to(torch.int32)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_drop, rf"missing \['{HEAD}.bias'\]"),
        (_add, r"not the key layout.*unexpected keys \['model.backbone.classifier"),
        (_classes, r"the head has 6 outputs \(2 displacement \+ 4 class logits\); expected 2"),
        (_reshape, rf"{MESSAGE}.weight has shape \(16, 47\), expected \(16, 48\)"),
        (_nan, rf"{UPDATE}.bias has non-finite values"),
        (_integer, rf"{EDGE_ENC}.weight must be a float tensor"),
    ],
)
def test_invalid_checkpoints_name_the_file_and_the_problem(tmp_path, edit, message):
    weights = published_weights(16)
    edit(weights)
    path = save_published(weights, tmp_path / "edited.pt")
    with pytest.raises(ValueError, match=message) as err:
        convert_published(path, tmp_path / "out.pt", steps=2, radius=0.2, source_info={})
    assert str(path) in str(err.value)
    assert not (tmp_path / "out.pt").exists()


def test_unreadable_file_names_the_file(tmp_path):
    path = tmp_path / "garbage.pt"
    path.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match=r"garbage\.pt: not a readable published checkpoint"):
        load_published(path, steps=2)


# ------------------------------------------ the real files (MIRO_WEIGHTS_DIR, upstream layout)
def test_every_published_file_of_the_local_copy_imports(tmp_path, weights_dir, repo_root):
    manifest = load_manifest(repo_root / "resources" / "published_checkpoints.tsv")
    models = published_models()
    assert set(models) == {p for p in manifest["path"] if p.endswith(".pt")}
    files = sorted(p.relative_to(weights_dir).as_posix() for p in weights_dir.rglob("*.pt"))
    assert MULTISHAPE in files and len(files) == 10  # 6 benchmark models + 4 others
    for path in files:
        model = models[path]
        raw = fetch_published(path, tmp_path / "raw.pt", manifest=manifest, local_dir=weights_dir)
        out = tmp_path / "published.pt"
        convert_published(
            raw,
            out,
            steps=model.steps,
            radius=model.radius,
            fov_nm=model.fov_nm or 6400.0,
            k_star=model.k_star,
            class_names=model.classes,
            source_info={"path": path},
        )
        checkpoint = load_checkpoint(out)
        assert checkpoint.model.steps == model.steps and checkpoint.radius == model.radius
        assert checkpoint.k_star == model.k_star and checkpoint.num_classes == len(model.classes)
        assert parameter_count(checkpoint.model) == PARAMETERS + 257 * len(model.classes)
        assert checkpoint.train["sha256"] == manifest.set_index("path").loc[path, "sha256"]
    assert models["multiscale/models/checkpoint.pt"].k_star == 10
    assert models[MULTISHAPE].classes == ("non-clustered", "spot", "ellipse")


def test_multishape_head_splits_into_displacement_and_class_logits(tmp_path, weights_dir):
    raw = torch.load(weights_dir / MULTISHAPE, map_location="cpu", weights_only=True)
    assert tuple(raw[f"{HEAD}.weight"].shape) == (5, 256)
    names = ["non-clustered", "spot", "ellipse"]
    out = tmp_path / "multishape.pt"
    convert_published(
        weights_dir / MULTISHAPE,
        out,
        steps=20,
        radius=0.2,
        fov_nm=6400.0,
        class_names=names,
        source_info={"path": MULTISHAPE},
    )
    checkpoint = load_checkpoint(out)
    assert checkpoint.class_names == names and checkpoint.fov_nm == 6400.0
    coords = simulate_fov("multishape", 0, n_clusters=(5, 8))[["x", "y"]].to_numpy()
    graph = fov_graph(coords, 0.2)[0]
    with torch.no_grad():
        ours = checkpoint.model(graph.x, graph.edge_index, graph.edge_attr)
        reference = published_forward(raw, graph.x, graph.edge_index, graph.edge_attr, 20)
    assert reference.shape == (20, graph.num_nodes, 5) and ours.logits.shape[-1] == 3
    torch.testing.assert_close(ours.displacements, reference[..., :2], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(ours.logits, reference[..., 2:], rtol=1e-4, atol=1e-4)
    probs = squeeze(checkpoint.model, coords, 0.2, device="cpu").class_probs
    assert probs.shape == (len(coords), 3)
    predicted = probs.argmax(axis=1)
    assert set(predicted.tolist()) <= {0, 1, 2} and len(set(predicted.tolist())) > 1


@pytest.mark.parametrize(
    ("path", "classes", "message"),
    [  # the file's head against the layout the model is imported as
        (
            MULTISHAPE,
            (),
            r"the head has 5 outputs \(2 displacement \+ 3 class logits\); expected 2",
        ),
        (PATH, ("a", "b", "c"), r"the head has 2 outputs .*; expected 5 \(2 displacement \+ 3"),
    ],
)
def test_a_head_of_another_layout_names_the_file(tmp_path, weights_dir, path, classes, message):
    src = weights_dir / path
    with pytest.raises(ValueError, match=message) as err:
        convert_published(
            src, tmp_path / "out.pt", steps=2, radius=0.2, class_names=classes, source_info={}
        )
    assert str(src) in str(err.value) and not (tmp_path / "out.pt").exists()


def test_missing_or_altered_real_files_name_the_file(tmp_path, weights_dir, repo_root):
    manifest = load_manifest(repo_root / "resources" / "published_checkpoints.tsv")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PublishedError, match=rf"{empty / MULTISHAPE} \(published.local_dir"):
        fetch_published(MULTISHAPE, tmp_path / "x.pt", manifest=manifest, local_dir=empty)
    altered = bytearray((weights_dir / MULTISHAPE).read_bytes())
    altered[-100] ^= 0x01
    (tmp_path / "altered.pt").write_bytes(bytes(altered))
    with pytest.raises(ChecksumError, match=r"altered\.pt"):
        fetch_published(
            MULTISHAPE, tmp_path / "x.pt", manifest=manifest, local_file=tmp_path / "altered.pt"
        )
    assert not (tmp_path / "x.pt").exists()
