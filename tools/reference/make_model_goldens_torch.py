#!/usr/bin/env python3
"""Golden files for the modern LLaMA family, computed with the PyTorch models of transformers (CPU).

make_model_goldens.py uses the Flax models of transformers 4.46.3, which hard-code the rotary base
(10000) and have no rope scaling. The configurations here need both, so they are run with the same
release's PyTorch `LlamaForCausalLM` / `MistralForCausalLM` (pinned with a CPU torch in
requirements-models-torch.txt, in a venv of its own). Everything else is shared with
make_model_goldens.py: weights drawn with numpy from the seed and written first (the library loads
the folder with `from_pretrained`, so name mapping, grouped-query head assignment and tying are its
own), the three-row batch, the loss rule and the file layout. Models:

  llama3         Llama-3-style: grouped-query attention (4 query heads, 2 key/value heads), rope_theta
                 500000 with "llama3" rope scaling (its three frequency bands all present at this head
                 size), tied embeddings (no lm_head.weight in the file)
  mistral        Mistral-style: multi-query attention (8 query heads, 1 key/value head), head_dim 16
                 while hidden/heads is 8, rope_theta 1e6, a sliding window longer than the sequences
  llama2_linear  Llama-2-style with "linear" rope scaling (factor 4), multi-head attention, one layer

Run it through `--bootstrap` (creates/updates the pinned venv, then re-runs itself there):
  python3 tools/reference/make_model_goldens_torch.py --bootstrap
"""

import argparse
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_model_goldens as common  # noqa: E402  (stdlib-only at import time)

PINNED = {
    "transformers": "4.46.3",
    "torch": "2.5.1",
    "numpy": "1.26.4",
    "safetensors": "0.4.5",
}

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-models-torch.txt"
REGENERATE_CMD = "python3 tools/reference/make_model_goldens_torch.py --bootstrap"


def default_venv():
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "cohx" / "refvenv-torch"


def bootstrap(argv, venv):
    py = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv.resolve():
        return
    if not py.exists():
        print(f"creating venv {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    probe = "import importlib.metadata as m, json; print(json.dumps({p: m.version(p).split('+')[0] for p in %r}))" % (
        list(PINNED),
    )
    r = subprocess.run([str(py), "-c", probe], capture_output=True, text=True)
    have = json.loads(r.stdout) if r.returncode == 0 else {}
    if have != PINNED:
        print(f"installing {REQUIREMENTS.name} into {venv}", file=sys.stderr)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)
    rest = [a for a in argv if a != "--bootstrap"]
    os.execv(str(py), [str(py), str(Path(__file__).resolve())] + rest)


def check_versions():
    import importlib.metadata as md

    wrong = []
    for pkg, want in PINNED.items():
        try:
            got = md.version(pkg).split("+")[0]  # torch reports e.g. 2.5.1+cu124
        except md.PackageNotFoundError:
            got = "not installed"
        if got != want:
            wrong.append(f"{pkg} {got} (need {want})")
    if wrong:
        common.fail("reference library versions differ: " + ", ".join(wrong) + f". Run '{REGENERATE_CMD}'")


# ---------------------------------------------------------------------------------------------
# configs and tensors
# ---------------------------------------------------------------------------------------------

def llama3_config():
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=256, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, hidden_act="silu", max_position_embeddings=128,
        initializer_range=0.02, rms_norm_eps=1e-5, rope_theta=500000.0,
        # original context 32: wavelengths under 8 positions keep their frequency, over 32 are
        # stretched 8x, between are blended; head_dim 16 has pairs in all three bands
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 32},
        tie_word_embeddings=True, attention_bias=False, mlp_bias=False, bos_token_id=0, eos_token_id=1,
        architectures=["LlamaForCausalLM"], torch_dtype="float32",
    )


def mistral_config():
    from transformers import MistralConfig

    return MistralConfig(
        vocab_size=256, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
        num_attention_heads=8, num_key_value_heads=1, head_dim=16, hidden_act="silu",
        max_position_embeddings=128, initializer_range=0.02, rms_norm_eps=1e-5, rope_theta=1e6,
        sliding_window=4096, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
        architectures=["MistralForCausalLM"], torch_dtype="float32",
    )


def llama2_linear_config():
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=256, hidden_size=32, intermediate_size=96, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=2, hidden_act="silu", max_position_embeddings=128,
        initializer_range=0.02, rms_norm_eps=1e-6, rope_theta=10000.0,
        rope_scaling={"type": "linear", "factor": 4.0},
        tie_word_embeddings=False, attention_bias=False, mlp_bias=False, bos_token_id=1, eos_token_id=2,
        architectures=["LlamaForCausalLM"], torch_dtype="float32",
    )


def tensors(cfg):
    """LlamaForCausalLM / MistralForCausalLM tensors in module order; Linear weights are [out, in]."""
    d, i, v = cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size
    hd = cfg.head_dim
    q, kv = cfg.num_attention_heads * hd, cfg.num_key_value_heads * hd
    out = [("model.embed_tokens.weight", (v, d), "normal")]
    for n in range(cfg.num_hidden_layers):
        p = f"model.layers.{n}."
        out += [
            (p + "input_layernorm.weight", (d,), "norm"),
            (p + "self_attn.q_proj.weight", (q, d), "normal"),
            (p + "self_attn.k_proj.weight", (kv, d), "normal"),
            (p + "self_attn.v_proj.weight", (kv, d), "normal"),
            (p + "self_attn.o_proj.weight", (d, q), "normal"),
            (p + "post_attention_layernorm.weight", (d,), "norm"),
            (p + "mlp.gate_proj.weight", (i, d), "normal"),
            (p + "mlp.up_proj.weight", (i, d), "normal"),
            (p + "mlp.down_proj.weight", (d, i), "normal"),
        ]
    out.append(("model.norm.weight", (d,), "norm"))
    if not cfg.tie_word_embeddings:
        out.append(("lm_head.weight", (v, d), "normal"))
    return out


MODELS = {
    # name: (index for seeding, config factory, HF class name)
    "llama3": (2, llama3_config, "LlamaForCausalLM"),
    "mistral": (3, mistral_config, "MistralForCausalLM"),
    "llama2_linear": (4, llama2_linear_config, "LlamaForCausalLM"),
}


# ---------------------------------------------------------------------------------------------
# reference runs
# ---------------------------------------------------------------------------------------------

def load_reference(name, folder):
    """from_pretrained of the folder in f32 with eager attention; any missing or unused weight stops us."""
    import torch
    import transformers

    cls = getattr(transformers, MODELS[name][2])
    model, info = cls.from_pretrained(str(folder), torch_dtype=torch.float32, attn_implementation="eager",
                                      local_files_only=True, output_loading_info=True)
    bad = {k: v for k, v in info.items() if v}
    if bad:
        common.fail(f"{folder}: transformers did not load every weight exactly: {bad}")
    model.eval()
    return model


def forward_fn(model, bf16=False):
    import numpy as np
    import torch

    def fwd(_params, ids):
        # Plain causal mask only (no attention_mask), as the CoH trainer.
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(torch.from_numpy(np.asarray(ids, np.int64))).logits
        return out.float().numpy()

    return fwd


def sensitivity(name, cfg, folder, weights, input_ids, tokens, masks, logits):
    """How far the logits move under plausible mistakes in the new features."""
    import numpy as np
    import torch
    import transformers
    from safetensors.numpy import save_file

    cls = getattr(transformers, MODELS[name][2])
    base = common.coh_loss(logits, tokens, masks)[0]

    def run(config_changes=None, weight_fn=None):
        c = cfg.__class__.from_dict({**cfg.to_dict(), **(config_changes or {})})
        w = {k: np.array(v) for k, v in weights.items()}
        if weight_fn:
            weight_fn(w)
        with tempfile.TemporaryDirectory() as tmp:
            c.save_pretrained(tmp)
            save_file(w, os.path.join(tmp, "model.safetensors"), metadata={"format": "pt"})
            m = cls.from_pretrained(tmp, torch_dtype=torch.float32, attn_implementation="eager", local_files_only=True)
            m.eval()
            return forward_fn(m)(None, input_ids)

    heads, kv, hd = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
    group = heads // kv

    def kv_heads_interleaved(w):
        # Query head h reading key/value head h % kv instead of h // group (a wrong repeat_kv):
        # reorder the query heads (q rows, o columns) so the library computes exactly that.
        order = [(h % kv) * group + h // kv for h in range(heads)]
        rows = np.concatenate([np.arange(o * hd, (o + 1) * hd) for o in order])
        for n in range(cfg.num_hidden_layers):
            p = f"model.layers.{n}.self_attn."
            w[p + "q_proj.weight"] = w[p + "q_proj.weight"][rows]
            w[p + "o_proj.weight"] = w[p + "o_proj.weight"][:, rows]

    cases = {}
    if cfg.rope_theta != 10000.0:
        cases["rope_theta_10000"] = run({"rope_theta": 10000.0})
    if getattr(cfg, "rope_scaling", None) is not None:
        cases["rope_scaling_ignored"] = run({"rope_scaling": None})
    if 1 < kv < heads:
        cases["kv_heads_assigned_interleaved"] = run(weight_fn=kv_heads_interleaved)
    return {
        k: {
            "max_abs_logit_diff": float(np.abs(v - logits).max()),
            "loss_diff": float(abs(common.coh_loss(v, tokens, masks)[0] - base)),
        }
        for k, v in sorted(cases.items())
    }


def generate(name, out_root, seed):
    import numpy as np

    idx, make_cfg, cls_name = MODELS[name]
    cfg = make_cfg()
    spec = tensors(cfg)
    weights = common.random_weights(spec, cfg, np.random.default_rng([seed, idx, 0]))
    out = Path(out_root) / name
    model_bytes = common.safetensors_bytes(weights, metadata={"format": "pt"})
    config_bytes = cfg.to_json_string(use_diff=True).encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "config.json").write_bytes(config_bytes)
        Path(tmp, "model.safetensors").write_bytes(model_bytes)
        model = load_reference(name, tmp)
        fwd = forward_fn(model)
        # token range and batch rows as the LLaMA golden (ids 2.. are ordinary tokens)
        tokens, masks, pad = common.make_batch("llama", cfg, fwd, None, np.random.default_rng([seed, idx, 1]))
        input_ids = common.shift_inputs(tokens, cfg.bos_token_id)
        logits = fwd(None, input_ids).astype(np.float32)
        logits_bf16 = forward_fn(model, bf16=True)(None, input_ids).astype(np.float32)
        sens = sensitivity(name, cfg, tmp, weights, input_ids, tokens, masks, logits)

    golden_bytes = common.safetensors_bytes({
        "tokens": tokens, "input_ids": input_ids, "loss_masks": masks, "logits": logits, "logits_bf16": logits_bf16,
    })
    info = {
        "model": name,
        "hf_architecture": cls_name,
        "reference": "transformers PyTorch (CPU, eager attention); see make_model_goldens_torch.py",
        "seed": seed,
        "bos_id": cfg.bos_token_id,
        "eos_id": cfg.eos_token_id,
        "pad_id": pad,
        "batch": common.BATCH,
        "seq_len": common.SEQ,
        "vocab_size": cfg.vocab_size,
        "attention_mask": "plain causal mask, no padding attention mask (as the CoH trainer)",
        "fields": {
            "tokens": "int32 [B,S]: the batch as the trainer gets it; targets = tokens",
            "input_ids": "int32 [B,S]: [bos] + tokens[:, :-1], what the model is run on",
            "loss_masks": "float32 [B,S]",
            "logits": "float32 [B,S,V]: model(input_ids), f32 weights and f32 compute",
            "logits_bf16": "float32 [B,S,V]: the same f32 weights run under torch.autocast(bfloat16) "
            "(bf16 matmuls; its casts differ from cohx's, compare loosely)",
        },
        "rows": [
            "0: every position in the loss",
            f"1: mid-sequence prompt, mask 0 at positions {common.MID_PROMPT[0]}..{common.MID_PROMPT[1] - 1}",
            f"2: eos at {common.PAD_FROM - 1}, then pad tokens with mask 0 from position {common.PAD_FROM}",
        ],
        "loss_rule": "docs/COH.md#loss, evaluated in float64 from the float32 logits (as make_model_goldens.py)",
        "f32": common.summary(logits, tokens, masks),
        "bf16": common.summary(logits_bf16, tokens, masks),
        "tolerances": {"logits_max_abs_f32": common.LOGIT_TOL, "loss_abs_f32": common.LOSS_TOL},
        "sensitivity": sens,
        "weights": {
            "init": f"numpy default_rng([seed, {idx}, 0]) standard normal, in the order of the HF tensors: "
            f"weights * initializer_range ({cfg.initializer_range}); norm weights {common.NORM_MEAN} + "
            f"{common.NORM_STD} * z",
            "dtype": "float32",
            "layout": "Hugging Face PyTorch names, Linear weights [out, in]",
            "sha256": hashlib.sha256(model_bytes).hexdigest(),
        },
        "golden_sha256": hashlib.sha256(golden_bytes).hexdigest(),
        "libraries": dict(PINNED),
        "regenerate": REGENERATE_CMD,
    }
    common.atomic_write(out / "config.json", config_bytes)
    common.atomic_write(out / "model.safetensors", model_bytes)
    common.atomic_write(out / "golden.safetensors", golden_bytes)
    common.atomic_write(out / "golden.json", common.json_bytes(info))
    f = info["f32"]
    print(f"{name}: loss {f['loss']:.8f} accuracy {f['accuracy']:.6f} |logits| max {f['logit_max_abs']:.4f} -> {out}")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bootstrap", action="store_true",
                    help="create/refresh the pinned venv and re-run this script inside it")
    ap.add_argument("--venv", type=Path, default=default_venv(), help="venv for --bootstrap (default %(default)s)")
    ap.add_argument("--out", type=Path, default=common.GOLDEN_ROOT, help="golden root (default: the test resources)")
    ap.add_argument("--seed", type=int, default=common.DEFAULT_SEED)
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of " + ",".join(MODELS))
    args = ap.parse_args(argv)
    if args.bootstrap:
        bootstrap(argv, args.venv)
    check_versions()
    import torch

    torch.manual_seed(0)  # nothing here is random in torch; set anyway so a stray init is repeatable
    torch.set_num_threads(1)  # one summation order, for byte-identical files
    logging.getLogger("transformers").setLevel(logging.ERROR)
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in names:
        if m not in MODELS:
            common.fail(f"--models: unknown model {m!r} (known: {', '.join(MODELS)})")
    for m in names:
        generate(m, args.out, args.seed)


if __name__ == "__main__":
    main(sys.argv[1:])
