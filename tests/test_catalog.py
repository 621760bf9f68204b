"""The repository as the Snakemake workflow catalog and snakedeploy read it: the layout, the
catalog's usage settings, config/README.md naming every config key, the licence and citation."""

from __future__ import annotations

import re

import pytest
import yaml


def schema_keys(props: dict, defs: dict, prefix: str = "") -> list[str]:
    """Dotted paths of every key of a schema ``properties`` block, nested blocks included."""
    keys = []
    for key, spec in props.items():
        if "$ref" in spec:
            spec = defs[spec["$ref"].rsplit("/", 1)[1]]
        keys.append(prefix + key)
        keys += schema_keys(spec.get("properties", {}), defs, f"{prefix}{key}.")
    return keys


def test_catalog_layout(repo_root):
    assert (repo_root / "workflow" / "Snakefile").is_file()
    assert 'include: "workflow/Snakefile"' in (repo_root / "Snakefile").read_text()
    assert all(rules.suffix == ".smk" for rules in (repo_root / "workflow" / "rules").iterdir())
    # snakedeploy copies config/ into a deployment, whose Snakefile reads config/config.yaml
    assert (repo_root / "config" / "config.yaml").resolve() == repo_root / "config.yaml"


def test_catalog_usage_settings(repo_root):
    usage = yaml.safe_load((repo_root / ".snakemake-workflow-catalog.yml").read_text())["usage"]
    assert set(usage) == {"mandatory-flags", "software-stack-deployment", "report"}
    assert set(usage["mandatory-flags"]) == {"desc", "flags"}
    deployment = usage["software-stack-deployment"]
    assert set(deployment) <= {"conda", "apptainer", "apptainer+conda"}
    assert all(isinstance(value, bool) for value in deployment.values())
    assert usage["report"] is True


def test_config_readme_names_every_key(repo_root):
    schema = yaml.safe_load((repo_root / "workflow" / "schemas" / "config.schema.yaml").read_text())
    defs = schema["$defs"]
    dataset = schema["properties"]["datasets"]["additionalProperties"]["properties"]
    sections = {"defaults", "datasets"}  # headings: their keys are listed without the prefix
    top = {k: v for k, v in schema["properties"].items() if k not in sections}
    keys = [
        *sections,
        *schema_keys(top, defs),
        *schema_keys(defs["settings"]["properties"], defs),
        *schema_keys({k: v for k, v in dataset.items() if k != "settings"}, defs),
    ]
    readme = (repo_root / "config" / "README.md").read_text()
    named = set(re.findall(r"`([A-Za-z_][\w.]*)`", readme))
    missing = [key for key in keys if key not in named]
    assert not missing, f"config/README.md does not name {missing}"


def test_citation_metadata(repo_root):
    cff = yaml.safe_load((repo_root / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert {"message", "title", "authors"} <= set(cff) and cff["license"] == "MIT"
    paper = cff["preferred-citation"]
    assert paper["type"] == "article" and paper["doi"] == "10.1038/s41467-025-65557-7"
    assert paper["authors"][0]["family-names"] == "Pineda"
    benchmark = next(r for r in cff["references"] if r.get("journal") == "Nature Methods")
    assert benchmark["authors"][0]["family-names"] == "Nieves" and benchmark["year"] == 2023
    for ref in [paper, *cff["references"]]:
        assert {"type", "title", "authors"} <= set(ref), ref.get("title")
        if "doi" in ref:
            assert re.fullmatch(r"10\.\d{4,}/\S+", ref["doi"])


@pytest.mark.parametrize("name", ["LICENSE", "CITATION.cff", "config/README.md"])
def test_named_in_the_readme(repo_root, name):
    assert name in (repo_root / "README.md").read_text()
