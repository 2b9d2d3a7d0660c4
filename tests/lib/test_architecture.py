"""The library's structure: no import cycles, the layers import downwards only, one registry per
kind behind one entry point, and every model kind a builder makes round-trips through a checkpoint."""
import ast
import pathlib
import subprocess
import sys

import pytest
import torch

import dgmlib
from dgmlib.builders import MODELS, REGISTRIES, from_config

PACKAGE = pathlib.Path(dgmlib.__file__).resolve().parent


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: pathlib.Path) -> set[str]:
    """dgmlib modules imported anywhere in the file (module level and inside functions)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            candidates = [target] + [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            candidates = [a.name for a in node.names]
        else:
            continue
        found |= {c for c in candidates if c in GRAPH_NODES}
    return found - {"dgmlib"}     # the top-level package only re-exports


FILES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH_NODES = set(FILES)
GRAPH = {name: _imports(path) - {name} for name, path in FILES.items()}


def _reaches(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in GRAPH[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_import_graph_of_dgmlib_has_no_cycle():
    assert len(GRAPH) > 30 and GRAPH["dgmlib.metrics"] >= {"dgmlib.models", "dgmlib.nets"}
    cycles = sorted(m for m in GRAPH if m in _reaches(m))
    assert cycles == [], f"import cycles through {cycles}"


@pytest.mark.parametrize("low, high", [("dgmlib.priors", "dgmlib.models"), ("dgmlib.flows", "dgmlib.priors"),
                                       ("dgmlib.distributions", "dgmlib.flows"), ("dgmlib.models", "dgmlib.builders"),
                                       ("dgmlib.models", "dgmlib.train"), ("dgmlib.metrics", "dgmlib.experiments")])
def test_lower_layers_never_import_higher_ones(low, high):
    below = {m for m in GRAPH if m == low or m.startswith(low + ".")}
    reached = set().union(*(_reaches(m) for m in below))
    assert not {m for m in reached if m == high or m.startswith(high + ".")}, f"{low} reaches {high}"


def test_models_and_priors_import_in_a_fresh_interpreter():
    out = subprocess.run([sys.executable, "-c", "import dgmlib.models, dgmlib.priors; print('ok')"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_the_library_never_calls_git_or_writes_into_the_repository():
    for name, path in FILES.items():
        text = path.read_text()
        assert "subprocess" not in text and "book/results.md" not in text, name


def test_every_registry_rejects_unknown_names_alike():
    for kind, registry in REGISTRIES.items():
        with pytest.raises(ValueError, match=f"unknown {registry.kind} 'nope'; choose one of"):
            dgmlib.build(kind, "nope")
    with pytest.raises(ValueError, match="unknown kind"):
        dgmlib.build("loss", "elbo")


def _small(kind: str):
    return {"vae": dict(x_dim=6, z_dim=2, hidden=[8]),
            "hierarchical_vae": dict(x_dim=6, z1_dim=2, z2_dim=2, hidden=[8], prior="vampprior", prior_components=3),
            "deep_hierarchical_vae": dict(x_dim=6, z_dims=[3, 2], hidden=[8]),
            "semi_supervised_vae": dict(x_dim=6, n_classes=3, z_dim=2, hidden=[8]),
            "dequantized_flow": dict(dim=4, levels=5, dequantization="variational", layers=1, hidden=[4],
                                     deq_layers=1, deq_hidden=[4]),
            "cross_modal_vae": dict(modalities={"img": (6, "bernoulli"), "pos": (2, "gaussian"),
                                                "cls": (3, "categorical")}, z_dim=2, hidden=[8]),
            "dequantized_image_flow": dict(shape=[1, 4, 4], levels=5, dequantization="variational", scales=2,
                                           couplings=1, hidden=4, blocks=1, deq_couplings=1, deq_hidden=4)}[kind]


VARIANTS = [("vae", {}), ("vae", dict(flow="iaf", flow_length=2, prior="flow")),
            ("vae", dict(prior="mog", prior_components=3)), ("vae", dict(decoder="autoregressive", ar_hidden=2)),
            ("vae", dict(x_dim=16, decoder="pixelcnn", pixelcnn_layers=2, pixelcnn_channels=4)),
            ("hierarchical_vae", {}), ("dequantized_flow", {}), ("dequantized_image_flow", {}),
            ("dequantized_image_flow", dict(dequantization="uniform", scales=3, couplings=[1, 1, 2], lu=False)),
            ("deep_hierarchical_vae", {}), ("deep_hierarchical_vae", dict(inference="bottom_up")),
            ("deep_hierarchical_vae", dict(init="he", batch_norm=True)),
            ("semi_supervised_vae", {}), ("semi_supervised_vae", dict(init="he")), ("cross_modal_vae", {})]


def _data(kind: str, n: int = 5, dim: int = 6) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    if kind.startswith("dequantized"):
        return torch.randint(0, 5, (n, dim), generator=g).to(torch.get_default_dtype()) / 4
    return torch.randint(0, 2, (n, dim), generator=g).to(torch.get_default_dtype())


def _log_weights(model, kind: str, dtype) -> torch.Tensor:
    """The model's log weights on a fixed batch (a cross-modal VAE: its bound for every pair, [pairs, B])."""
    if kind != "cross_modal_vae":
        return model.log_weights(_data(kind, dim=model.x_dim or 6).to(dtype), K=3)
    g = torch.Generator().manual_seed(0)
    batch = {"img": _data(kind), "pos": torch.randn(5, 2, generator=g), "cls": torch.randint(0, 3, (5,), generator=g)}
    batch = {m: t.to(dtype) if t.is_floating_point() else t for m, t in batch.items()}
    return torch.stack([model.bound(i, t, batch[i], batch[t], K=3) for i, t in model.pairs])


def test_every_model_kind_is_covered_by_the_round_trip_test():
    assert {kind for kind, _ in VARIANTS} == set(MODELS)


@pytest.mark.parametrize("kind, extra", VARIANTS, ids=[f"{k}-{'-'.join(e) or 'default'}" for k, e in VARIANTS])
def test_every_saveable_model_kind_round_trips_through_save_and_load(tmp_path, kind, extra, dtype):
    torch.manual_seed(0)
    model = MODELS.build(kind, **{**_small(kind), **extra}).to(dtype)
    assert from_config(model.config).config == model.config          # the config rebuilds the architecture
    with torch.no_grad():                                             # weights unlike a fresh model's
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    dgmlib.save_checkpoint(tmp_path / "m.pt", model)
    loaded, _ = dgmlib.load_checkpoint(tmp_path / "m.pt")
    assert type(loaded) is type(model) and loaded.config == model.config
    assert next(loaded.parameters()).dtype == dtype
    state, back = model.state_dict(), loaded.state_dict()
    assert state.keys() == back.keys() and all(torch.equal(state[k], back[k]) for k in state)
    if kind == "dequantized_image_flow":                              # ActNorm's data-dependent init, saved
        model.log_weights(_data(kind, dim=model.x_dim).to(dtype), K=2)
        dgmlib.save_checkpoint(tmp_path / "m.pt", model)
        loaded, _ = dgmlib.load_checkpoint(tmp_path / "m.pt")
    model.eval()
    torch.manual_seed(1)
    expected = _log_weights(model, kind, dtype)
    torch.manual_seed(1)
    assert torch.equal(_log_weights(loaded, kind, dtype), expected) and torch.isfinite(expected).all()


def test_a_checkpoint_with_flipped_bytes_is_reported_corrupt(tmp_path):
    model = dgmlib.build_vae(6, 2, hidden=[8])
    path = tmp_path / "m.pt"
    dgmlib.save_checkpoint(path, model)
    raw = bytearray(path.read_bytes())
    # flip bytes inside the largest stored tensor (the zip's data records), not its header
    key = max(model.state_dict(), key=lambda k: model.state_dict()[k].numel())
    value = model.state_dict()[key].detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
    at = raw.find(value)
    assert at > 0
    raw[at + 8: at + 72] = bytes(64)
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"m\.pt.* is corrupt"):
        dgmlib.load_checkpoint(path)
