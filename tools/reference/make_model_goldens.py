#!/usr/bin/env python3
"""Golden files for cohx model parity, computed by an independent implementation.

Builds tiny random-weight LLaMA and GPT-J models from a fixed seed, runs them with the
Flax models of Hugging Face `transformers` (pinned in requirements-models.txt) and writes,
per model, into models/src/test/resources/golden/<llama|gptj>/:

  config.json         the Hugging Face config the model was built from
  model.safetensors   the weights under Hugging Face (PyTorch layout) names, float32
  golden.safetensors  tokens, input_ids, loss_masks, logits (f32) and logits_bf16
  golden.json         loss/accuracy as docs/COH.md#loss, ids, seed, versions, command

The weights are drawn with numpy (PCG64) from the seed and written first; the reference model
then loads that folder with `from_pretrained`, so the Hugging Face name mapping and the
PyTorch-to-Flax transposes are the library's own, not ours.

Second mode: `--check HF_DIR --model llama|gptj` loads an exported Hugging Face folder
(config.json + model.safetensors or a sharded model.safetensors.index.json) with the same
library, runs the golden inputs and compares logits and loss with the golden files.

Run it through `--bootstrap` (creates/updates the pinned venv, then re-runs itself there):
  python3 tools/reference/make_model_goldens.py --bootstrap
  python3 tools/reference/make_model_goldens.py --bootstrap --check /path/to/hf --model llama
"""

import argparse
import hashlib
import json
import logging
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

# Exact versions the golden files were made with. Other versions may compute (slightly)
# different numbers or load checkpoints differently, so they are refused, not tolerated.
PINNED = {
    "transformers": "4.46.3",
    "jax": "0.4.35",
    "jaxlib": "0.4.35",
    "flax": "0.10.2",
    "numpy": "1.26.4",
    "safetensors": "0.4.5",
}

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
GOLDEN_ROOT = REPO_ROOT / "models" / "src" / "test" / "resources" / "golden"
REQUIREMENTS = HERE / "requirements-models.txt"
REGENERATE_CMD = "python3 tools/reference/make_model_goldens.py --bootstrap"
CHECK_CMD = "python3 tools/reference/make_model_goldens.py --bootstrap --check HF_DIR --model MODEL"

DEFAULT_SEED = 42
BATCH = 3
SEQ = 16
LOGIT_TOL = 1e-4
LOSS_TOL = 1e-5
# Rows of the golden batch: 0 = every position in the loss; 1 = a prompt in the middle of the
# sequence excluded from the loss (as CoH's "[prompt]" fields); 2 = trailing padding.
MID_PROMPT = (4, 10)  # positions [4, 10) of row 1 have mask 0
PAD_FROM = 11  # row 2: eos at PAD_FROM-1, pad tokens (mask 0) from PAD_FROM on
GREEDY_FRACTION = 0.4  # share of positions whose token is the model's own argmax (accuracy > 0)


def default_venv():
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "cohx" / "refvenv"


def fail(msg):
    print(f"make_model_goldens: error: {msg}", file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------------------------------------
# bootstrap: a venv with exactly the pinned libraries, then re-exec inside it
# ---------------------------------------------------------------------------------------------

def bootstrap(argv, venv):
    py = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv.resolve():
        return  # already inside
    if not py.exists():
        print(f"creating venv {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    probe = "import importlib.metadata as m, json; print(json.dumps({p: m.version(p) for p in %r}))" % (
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
            got = md.version(pkg)
        except md.PackageNotFoundError:
            got = "not installed"
        if got != want:
            wrong.append(f"{pkg} {got} (need {want})")
    if wrong:
        fail(
            "reference library versions differ: " + ", ".join(wrong) + ". Run through the pinned venv: "
            f"'{REGENERATE_CMD}' (or: python3 -m venv {default_venv()} && "
            f"{default_venv()}/bin/pip install -r {REQUIREMENTS.relative_to(REPO_ROOT)})"
        )


# ---------------------------------------------------------------------------------------------
# model specs: configs and the list of Hugging Face tensors (name, shape, kind)
# ---------------------------------------------------------------------------------------------

def llama_config():
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=256,
        hidden_size=64,
        intermediate_size=160,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        hidden_act="silu",
        max_position_embeddings=128,
        initializer_range=0.02,
        rms_norm_eps=1e-6,
        rope_theta=10000.0,
        tie_word_embeddings=False,
        attention_bias=False,
        mlp_bias=False,
        bos_token_id=0,
        eos_token_id=1,
        architectures=["LlamaForCausalLM"],
        torch_dtype="float32",
    )


def gptj_config():
    from transformers import GPTJConfig

    # Tiny stand-in for GPT-J's padded vocabulary: 6b has 50400 rows for 50257 real tokens and
    # bos = eos = 50256 (the last real one). Here rows 0..250 are "real", 251..255 padding rows
    # (they still take part in the softmax), and bos = eos = 250.
    return GPTJConfig(
        vocab_size=256,
        n_positions=128,
        n_embd=64,
        n_layer=2,
        n_head=4,
        rotary_dim=8,
        n_inner=None,
        activation_function="gelu_new",
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        layer_norm_epsilon=1e-5,
        initializer_range=0.02,
        tie_word_embeddings=False,
        bos_token_id=250,
        eos_token_id=250,
        architectures=["GPTJForCausalLM"],
        torch_dtype="float32",
    )


def llama_tensors(cfg):
    """Hugging Face LlamaForCausalLM tensors in module order; Linear weights are [out, in]."""
    d, i, v = cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size
    hd = d // cfg.num_attention_heads
    kv = cfg.num_key_value_heads * hd
    out = [("model.embed_tokens.weight", (v, d), "normal")]
    for n in range(cfg.num_hidden_layers):
        p = f"model.layers.{n}."
        out += [
            (p + "input_layernorm.weight", (d,), "norm"),
            (p + "self_attn.q_proj.weight", (d, d), "normal"),
            (p + "self_attn.k_proj.weight", (kv, d), "normal"),
            (p + "self_attn.v_proj.weight", (kv, d), "normal"),
            (p + "self_attn.o_proj.weight", (d, d), "normal"),
            (p + "post_attention_layernorm.weight", (d,), "norm"),
            (p + "mlp.gate_proj.weight", (i, d), "normal"),
            (p + "mlp.up_proj.weight", (i, d), "normal"),
            (p + "mlp.down_proj.weight", (d, i), "normal"),
        ]
    out += [("model.norm.weight", (d,), "norm"), ("lm_head.weight", (v, d), "normal")]
    return out


def gptj_tensors(cfg):
    """Hugging Face GPTJForCausalLM tensors in module order; Linear weights are [out, in]."""
    d, v = cfg.n_embd, cfg.vocab_size
    i = cfg.n_inner if cfg.n_inner is not None else 4 * d
    out = [("transformer.wte.weight", (v, d), "normal")]
    for n in range(cfg.n_layer):
        p = f"transformer.h.{n}."
        out += [
            (p + "ln_1.weight", (d,), "norm"),
            (p + "ln_1.bias", (d,), "bias"),
            (p + "attn.q_proj.weight", (d, d), "normal"),
            (p + "attn.k_proj.weight", (d, d), "normal"),
            (p + "attn.v_proj.weight", (d, d), "normal"),
            (p + "attn.out_proj.weight", (d, d), "normal"),
            (p + "mlp.fc_in.weight", (i, d), "normal"),
            (p + "mlp.fc_in.bias", (i,), "bias"),
            (p + "mlp.fc_out.weight", (d, i), "normal"),
            (p + "mlp.fc_out.bias", (d,), "bias"),
        ]
    out += [
        ("transformer.ln_f.weight", (d,), "norm"),
        ("transformer.ln_f.bias", (d,), "bias"),
        ("lm_head.weight", (v, d), "normal"),
        ("lm_head.bias", (v,), "bias"),
    ]
    return out


MODELS = {
    # name: (index for seeding, config factory, tensor list, Flax class name)
    "llama": (0, llama_config, llama_tensors, "FlaxLlamaForCausalLM"),
    "gptj": (1, gptj_config, gptj_tensors, "FlaxGPTJForCausalLM"),
}

# Buffers some older PyTorch exports carry; transformers ignores them, so --check does too.
IGNORED_EXTRA = (".attn.bias", ".attn.masked_bias", ".rotary_emb.inv_freq")

# Random values: weights ~ N(0, initializer_range) as the reference initializes them. Norm
# weights and biases are not left at 1 / 0, so a Java model that ignores them is caught, and
# norm weights around 4 make attention far from uniform: with weights near 1 the scores are so
# small that a wrong rotary layout moved the loss by less than the 1e-5 tolerance. The
# "sensitivity" table in golden.json records how far such mistakes move logits and loss.
NORM_MEAN = 4.0
NORM_STD = 1.0
BIAS_STD = 0.5


def random_weights(spec, cfg, rng):
    import numpy as np

    out = {}
    for name, shape, kind in spec:
        z = rng.standard_normal(shape)  # float64, identical on every platform for a seed
        if kind == "normal":
            w = z * cfg.initializer_range
        elif kind == "norm":
            w = NORM_MEAN + NORM_STD * z
        else:
            w = BIAS_STD * z
        out[name] = np.ascontiguousarray(w.astype(np.float32))
    return out


# ---------------------------------------------------------------------------------------------
# files: atomic writes, safetensors header reading
# ---------------------------------------------------------------------------------------------

def atomic_write(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; these are ordinary repository files
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def safetensors_bytes(tensors, metadata=None):
    from safetensors.numpy import save

    return save(tensors, metadata=metadata)


def json_bytes(obj):
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode("utf-8")


def read_safetensors_header(path):
    """(metadata, {name: (dtype, shape)}) from a file's header; checks that data fits the file."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            fail(f"{path}: too short for a safetensors header ({size} bytes)")
        (n,) = struct.unpack("<Q", head)
        if n > size - 8:
            fail(f"{path}: header length {n} exceeds the file ({size} bytes); truncated?")
        try:
            header = json.loads(f.read(n))
        except ValueError as e:
            fail(f"{path}: header is not JSON: {e}")
    meta = header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        end = info["data_offsets"][1]
        if 8 + n + end > size:
            fail(f"{path}: tensor {name} ends at byte {8 + n + end} but the file has {size}; truncated?")
        out[name] = (info["dtype"], tuple(info["shape"]))
    return meta, out


# ---------------------------------------------------------------------------------------------
# reference runs
# ---------------------------------------------------------------------------------------------

class LoadWarnings(logging.Handler):
    """Collects transformers' loader warnings: a missing or unused weight must stop us, not
    silently run with a randomly initialized tensor."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def load_reference(model_name, folder, dtype_name="float32"):
    """Loads an HF folder with the library's own from_pretrained; params are cast to f32."""
    import jax
    import jax.numpy as jnp
    import transformers

    cls = getattr(transformers, MODELS[model_name][3])
    dtype = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}[dtype_name]
    handler = LoadWarnings()
    lib_logger = logging.getLogger("transformers.modeling_flax_utils")
    lib_logger.addHandler(handler)
    try:
        model = cls.from_pretrained(str(folder), dtype=dtype, local_files_only=True)
    finally:
        lib_logger.removeHandler(handler)
    bad = [m for m in handler.messages if "not used" in m or "newly initialized" in m or "missing" in m]
    if bad:
        fail(f"{folder}: transformers did not load every weight exactly: {bad[0][:600]}")
    params = jax.tree_util.tree_map(lambda x: jnp.asarray(x, jnp.float32), model.params)
    return model, params


def forward_fn(model):
    import jax

    # Plain causal mask only: no attention_mask is passed (all ones), exactly as the CoH
    # trainer, where padding reaches the loss only through loss_masks.
    return jax.jit(lambda params, ids: model(ids, params=params).logits)


def shift_inputs(tokens, bos):
    import numpy as np

    ids = np.empty_like(tokens)
    ids[:, 0] = bos
    ids[:, 1:] = tokens[:, :-1]
    return ids


def make_batch(model_name, cfg, fwd, params, rng):
    """tokens and loss masks for the three golden rows; a share of positions take the model's
    own argmax as token so that accuracy is not trivially zero."""
    import numpy as np

    bos, eos = cfg.bos_token_id, cfg.eos_token_id
    pad = eos  # pad = eos, as usual for LLaMA/GPT-J fine-tuning; what matters is mask 0
    lo, hi = (2, cfg.vocab_size) if model_name == "llama" else (0, 250)
    tokens = rng.integers(lo, hi, size=(BATCH, SEQ)).astype(np.int32)
    masks = np.ones((BATCH, SEQ), np.float32)
    masks[1, MID_PROMPT[0]:MID_PROMPT[1]] = 0.0
    fixed = np.zeros((BATCH, SEQ), bool)
    tokens[2, PAD_FROM - 1] = eos
    tokens[2, PAD_FROM:] = pad
    masks[2, PAD_FROM:] = 0.0
    fixed[2, PAD_FROM - 1:] = True
    greedy = (rng.random((BATCH, SEQ)) < GREEDY_FRACTION) & ~fixed
    for t in range(SEQ):
        if greedy[:, t].any():
            logits = np.asarray(fwd(params, shift_inputs(tokens, bos)))
            best = logits[:, t, :].argmax(-1).astype(np.int32)
            tokens[greedy[:, t], t] = best[greedy[:, t]]
    return tokens, masks, pad


def coh_loss(logits, tokens, masks):
    """docs/COH.md#loss: per row sum(-log_softmax(logits)[target] * mask) /
    max(sum(mask), 1e-10), then the batch mean; accuracy likewise with argmax == target.
    Computed in float64 from the float32 logits."""
    import numpy as np

    x = logits.astype(np.float64)
    m = x.max(-1, keepdims=True)
    logp = x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))
    tok_logp = np.take_along_axis(logp, tokens[..., None].astype(np.int64), -1)[..., 0]
    correct = (x.argmax(-1) == tokens).astype(np.float64)
    denom = np.maximum(masks.astype(np.float64).sum(-1), 1e-10)
    row_loss = (-tok_logp * masks).sum(-1) / denom
    row_acc = (correct * masks).sum(-1) / denom
    return float(row_loss.mean()), float(row_acc.mean()), [float(v) for v in row_loss], [float(v) for v in row_acc]


def summary(logits, tokens, masks):
    import numpy as np

    loss, acc, row_loss, row_acc = coh_loss(logits, tokens, masks)
    top2 = np.sort(logits.astype(np.float64), -1)[..., -2:]
    margin = top2[..., 1] - top2[..., 0]
    return {
        "loss": loss,
        "accuracy": acc,
        "row_loss": row_loss,
        "row_accuracy": row_acc,
        "logit_max_abs": float(np.abs(logits).max()),
        "logit_std": float(logits.astype(np.float64).std()),
        # accuracy is only stable under small logit errors where top-1 and top-2 are apart
        "min_top2_margin_in_loss": float(margin[masks > 0].min()),
    }


def sensitivity(model_name, cfg, weights, params, input_ids, tokens, masks, logits):
    """How far the logits move under plausible implementation mistakes: documents that the
    tolerances (1e-4 logits, 1e-5 loss) catch them."""
    import numpy as np
    import transformers
    from transformers.modeling_flax_pytorch_utils import convert_pytorch_state_dict_to_flax

    cls = getattr(transformers, MODELS[model_name][3])
    base_loss = coh_loss(logits, tokens, masks)[0]

    def with_config(**changes):
        c = cfg.__class__.from_dict({**cfg.to_dict(), **changes})
        m = cls(c, seed=0)
        return np.asarray(forward_fn(m)(params, input_ids))

    def with_weights(fn):
        w = {k: np.array(v) for k, v in weights.items()}
        fn(w)
        m = cls(cfg, seed=0)
        p = convert_pytorch_state_dict_to_flax(w, m)
        return np.asarray(forward_fn(m)(p, input_ids))

    def with_padding_mask():
        m = cls(cfg, seed=0)
        am = np.ones_like(input_ids)
        am[2, PAD_FROM + 1:] = 0  # input position t holds token t-1: pads start one later
        return np.asarray(m(input_ids, attention_mask=am, params=params).logits)

    heads = cfg.num_attention_heads if model_name == "llama" else cfg.n_head
    d = cfg.hidden_size if model_name == "llama" else cfg.n_embd
    hd = d // heads

    def qk_rows(w, perm_within_head):
        layers = cfg.num_hidden_layers if model_name == "llama" else cfg.n_layer
        for n in range(layers):
            for proj in ("q_proj", "k_proj"):
                key = (f"model.layers.{n}.self_attn.{proj}.weight" if model_name == "llama"
                       else f"transformer.h.{n}.attn.{proj}.weight")
                rows = np.concatenate([h * hd + np.asarray(perm_within_head) for h in range(heads)])
                w[key] = w[key][rows]

    cases = {}
    if model_name == "llama":
        # Meta's interleaved-pair rotary layout instead of HF's half-split one: what a converter
        # that forgets the q/k permutation produces.
        meta = [j for p in range(hd // 2) for j in (p, p + hd // 2)]
        cases["qk_rows_in_meta_interleaved_layout"] = with_weights(lambda w: qk_rows(w, meta))

        def swap_gate_up(w):  # SwiGLU's w1 (gate) and w3 (up) mixed up by a name mapping
            for n in range(cfg.num_hidden_layers):
                g, u = f"model.layers.{n}.mlp.gate_proj.weight", f"model.layers.{n}.mlp.up_proj.weight"
                w[g], w[u] = w[u], w[g]

        cases["mlp_gate_and_up_swapped"] = with_weights(swap_gate_up)
        cases["rms_norm_eps_1e-5"] = with_config(rms_norm_eps=1e-5)
    else:
        r = cfg.rotary_dim
        # rotate-half pairs (j, j + r/2) instead of GPT-J's interleaved (2j, 2j + 1)
        half = [j for p in range(r // 2) for j in (p, p + r // 2)] + list(range(r, hd))
        cases["rotary_half_split_instead_of_interleaved"] = with_weights(lambda w: qk_rows(w, half))
        cases["rotary_dim_16_full_head"] = with_config(rotary_dim=16)
        cases["gelu_exact_instead_of_gelu_new"] = with_config(activation_function="gelu")
        cases["layer_norm_epsilon_1e-6"] = with_config(layer_norm_epsilon=1e-6)
        cases["lm_head_bias_dropped"] = with_weights(lambda w: w.update({"lm_head.bias": 0 * w["lm_head.bias"]}))
    cases["padding_attention_mask_row2"] = with_padding_mask()
    return {
        k: {
            "max_abs_logit_diff": float(np.abs(v - logits).max()),
            "loss_diff": float(abs(coh_loss(v, tokens, masks)[0] - base_loss)),
        }
        for k, v in sorted(cases.items())
    }


# ---------------------------------------------------------------------------------------------
# modes
# ---------------------------------------------------------------------------------------------

def generate(model_name, out_root, seed):
    import numpy as np

    idx, make_cfg, make_spec, cls_name = MODELS[model_name]
    cfg = make_cfg()
    spec = make_spec(cfg)
    weights = random_weights(spec, cfg, np.random.default_rng([seed, idx, 0]))
    out = Path(out_root) / model_name

    # Weights under HF names with format=pt metadata, as save_pretrained writes them; the
    # library loads this folder itself (so the name mapping is the library's, not ours).
    model_bytes = safetensors_bytes(weights, metadata={"format": "pt"})
    config_bytes = cfg.to_json_string(use_diff=True).encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "config.json").write_bytes(config_bytes)
        Path(tmp, "model.safetensors").write_bytes(model_bytes)
        model, params = load_reference(model_name, tmp)
        model_bf16, _ = load_reference(model_name, tmp, "bfloat16")
        fwd = forward_fn(model)
        tokens, masks, pad = make_batch(model_name, cfg, fwd, params, np.random.default_rng([seed, idx, 1]))
        input_ids = shift_inputs(tokens, cfg.bos_token_id)
        logits = np.asarray(fwd(params, input_ids), np.float32)
        logits_bf16 = np.asarray(forward_fn(model_bf16)(params, input_ids)).astype(np.float32)
        sens = sensitivity(model_name, cfg, weights, params, input_ids, tokens, masks, logits)

    golden_bytes = safetensors_bytes(
        {
            "tokens": tokens,
            "input_ids": input_ids,
            "loss_masks": masks,
            "logits": logits,
            "logits_bf16": logits_bf16,
        }
    )
    info = {
        "model": model_name,
        "hf_architecture": cls_name.replace("Flax", ""),
        "seed": seed,
        "bos_id": cfg.bos_token_id,
        "eos_id": cfg.eos_token_id,
        "pad_id": pad,
        "batch": BATCH,
        "seq_len": SEQ,
        "vocab_size": cfg.vocab_size,
        "attention_mask": "plain causal mask, no padding attention mask (as the CoH trainer): "
        "padding enters only through loss_masks; logits at padded positions are still compared",
        "fields": {
            "tokens": "int32 [B,S]: the batch as the trainer gets it; targets = tokens",
            "input_ids": "int32 [B,S]: [bos] + tokens[:, :-1], what the model is run on",
            "loss_masks": "float32 [B,S]",
            "logits": "float32 [B,S,V]: model(input_ids), f32 params and f32 compute",
            "logits_bf16": "float32 [B,S,V] holding the bf16 logits of the library's bf16 compute "
            "(Flax dtype=bfloat16, f32 params; its casts differ from cohx's, compare loosely)",
        },
        "rows": [
            "0: every position in the loss",
            f"1: mid-sequence prompt, mask 0 at positions {MID_PROMPT[0]}..{MID_PROMPT[1] - 1}",
            f"2: eos at {PAD_FROM - 1}, then pad tokens with mask 0 from position {PAD_FROM}",
        ],
        "loss_rule": "docs/COH.md#loss: per row sum(-log_softmax(float32(logits))[target] * mask) / "
        "max(sum(mask), 1e-10), then the batch mean; accuracy likewise with argmax == target; "
        "evaluated in float64 from the float32 logits",
        "f32": summary(logits, tokens, masks),
        "bf16": summary(logits_bf16, tokens, masks),
        "tolerances": {"logits_max_abs_f32": LOGIT_TOL, "loss_abs_f32": LOSS_TOL},
        "sensitivity": sens,
        "weights": {
            "init": f"numpy default_rng([seed, {idx}, 0]) standard normal, in the order of the HF "
            f"tensors: weights * initializer_range ({cfg.initializer_range}); norm weights "
            f"{NORM_MEAN} + {NORM_STD} * z; biases {BIAS_STD} * z",
            "dtype": "float32",
            "layout": "Hugging Face PyTorch names, Linear weights [out, in]",
            "sha256": hashlib.sha256(model_bytes).hexdigest(),
        },
        "golden_sha256": hashlib.sha256(golden_bytes).hexdigest(),
        "libraries": dict(PINNED),
        "regenerate": REGENERATE_CMD,
        "check_export": CHECK_CMD,
    }
    atomic_write(out / "config.json", config_bytes)
    atomic_write(out / "model.safetensors", model_bytes)
    atomic_write(out / "golden.safetensors", golden_bytes)
    atomic_write(out / "golden.json", json_bytes(info))
    f = info["f32"]
    print(
        f"{model_name}: loss {f['loss']:.8f} accuracy {f['accuracy']:.6f} "
        f"|logits| max {f['logit_max_abs']:.4f} -> {out}"
    )


def expected_tensors(model_name, folder):
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(str(folder), local_files_only=True)
    want_type = {"llama": "llama", "gptj": "gptj"}[model_name]
    if cfg.model_type != want_type:
        fail(f"{folder}/config.json: model_type is {cfg.model_type!r}, --model says {model_name!r}")
    # Settings the Flax reference of this transformers release silently ignores or mishandles;
    # a folder using them cannot be checked with it.
    if model_name == "llama":
        unsupported = {
            "rope_theta": (cfg.rope_theta, 10000.0),  # Flax LLaMA hard-codes base 10000
            "rope_scaling": (cfg.rope_scaling, None),
            "mlp_bias": (getattr(cfg, "mlp_bias", False), False),  # Flax LLaMA MLP has no bias
        }
    else:
        # rotary_dim None means "the whole head", but Flax GPT-J then rotates n_embd dims
        if cfg.rotary_dim is None:
            fail(f"{folder}/config.json: rotary_dim is null; the Flax reference (transformers "
                 f"{PINNED['transformers']}) mishandles that, set it to the head size explicitly")
        unsupported = {}
    for field, (got, ok) in unsupported.items():
        if got != ok:
            fail(f"{folder}/config.json: {field} = {got!r} is not supported by the Flax reference "
                 f"(transformers {PINNED['transformers']}); only {ok!r} can be checked")
    return cfg, {name: shape for name, shape, _ in MODELS[model_name][2](cfg)}


def check(model_name, folder, golden_root, logit_tol, loss_tol):
    import jax
    import jax.numpy as jnp
    import numpy as np
    import transformers
    from safetensors import safe_open
    from safetensors.numpy import load_file
    from transformers.modeling_flax_pytorch_utils import convert_pytorch_state_dict_to_flax

    folder = Path(folder)
    gdir = Path(golden_root) / model_name
    golden = load_file(str(gdir / "golden.safetensors"))
    info = json.loads((gdir / "golden.json").read_text())
    if not (folder / "config.json").is_file():
        fail(f"{folder}: no config.json")
    cfg, want = expected_tensors(model_name, folder)

    # Which files hold which tensors; a sharded export has model.safetensors.index.json.
    index = folder / "model.safetensors.index.json"
    single = folder / "model.safetensors"
    if index.is_file():
        weight_map = json.loads(index.read_text())["weight_map"]
        files = sorted(set(weight_map.values()))
    elif single.is_file():
        files = ["model.safetensors"]
    else:
        fail(f"{folder}: neither model.safetensors nor model.safetensors.index.json")
    found = {}
    for fname in files:
        meta, header = read_safetensors_header(folder / fname)
        if len(files) == 1 and (meta or {}).get("format") != "pt":
            fail(f"{folder / fname}: __metadata__ lacks format=pt (got {meta}); transformers' Flax "
                 "loader refuses such a file, and so does this check")
        for name, (dt, shape) in header.items():
            found[name] = (fname, dt, shape)
    for name, shape in want.items():
        if name not in found:
            fail(f"{folder}: tensor {name} (shape {list(shape)}) is missing")
        if found[name][2] != shape:
            fail(f"{folder / found[name][0]}: tensor {name} has shape {list(found[name][2])}, "
                 f"config needs {list(shape)}")
    extra = [n for n in found if n not in want and not n.endswith(IGNORED_EXTRA)]
    if extra:
        fail(f"{folder}: unexpected tensors {extra[:5]}")
    dtypes = sorted({found[n][1] for n in want})

    if len(files) == 1:
        model, params = load_reference(model_name, folder)
    else:
        # transformers 4.46's Flax loader has no sharded-safetensors path; use its PyTorch-to-Flax
        # state-dict conversion (the one from_pretrained uses) on the merged shards instead.
        cls = getattr(transformers, MODELS[model_name][3])
        model = cls(cfg, seed=0)
        state = {}
        for fname in files:
            with safe_open(str(folder / fname), framework="flax") as f:
                for name in f.keys():
                    if name in want:
                        state[name] = np.asarray(f.get_tensor(name).astype(jnp.float32))
        params = convert_pytorch_state_dict_to_flax(state, model)
        params = jax.tree_util.tree_map(lambda x: jnp.asarray(x, jnp.float32), params)

    logits = np.asarray(forward_fn(model)(params, golden["input_ids"]), np.float32)
    loss, acc, _, _ = coh_loss(logits, golden["tokens"], golden["loss_masks"])
    max_diff = float(np.abs(logits - golden["logits"]).max())
    loss_diff = abs(loss - info["f32"]["loss"])
    ok = max_diff <= logit_tol and loss_diff <= loss_tol
    print(json.dumps({
        "model": model_name,
        "folder": str(folder),
        "files": files,
        "weight_dtypes": dtypes,
        "max_abs_logit_diff": max_diff,
        "loss": loss,
        "golden_loss": info["f32"]["loss"],
        "loss_diff": loss_diff,
        "accuracy": acc,
        "golden_accuracy": info["f32"]["accuracy"],
        "logit_tol": logit_tol,
        "loss_tol": loss_tol,
        "ok": ok,
    }))
    if not ok:
        print(f"check FAILED: logits differ by up to {max_diff:.3g} (tolerance {logit_tol}), loss by "
              f"{loss_diff:.3g} (tolerance {loss_tol})", file=sys.stderr)
        sys.exit(1)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bootstrap", action="store_true",
                    help="create/refresh the pinned venv and re-run this script inside it")
    ap.add_argument("--venv", type=Path, default=default_venv(), help="venv for --bootstrap (default %(default)s)")
    ap.add_argument("--out", type=Path, default=GOLDEN_ROOT, help="golden root (default: the test resources)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--models", default="llama,gptj", help="comma-separated subset of llama,gptj")
    ap.add_argument("--check", metavar="HF_DIR", type=Path,
                    help="compare an exported Hugging Face folder with the golden files")
    ap.add_argument("--model", choices=sorted(MODELS), help="model type of --check's folder")
    ap.add_argument("--logit-tol", type=float, default=LOGIT_TOL)
    ap.add_argument("--loss-tol", type=float, default=LOSS_TOL)
    args = ap.parse_args(argv)
    if args.bootstrap:
        bootstrap(argv, args.venv)
    check_versions()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    logging.getLogger("transformers").setLevel(logging.WARNING)
    if args.check is not None:
        if args.model is None:
            fail("--check needs --model llama|gptj")
        check(args.model, args.check, args.out, args.logit_tol, args.loss_tol)
        return
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in names:
        if m not in MODELS:
            fail(f"--models: unknown model {m!r} (known: {', '.join(sorted(MODELS))})")
    for m in names:
        generate(m, args.out, args.seed)


if __name__ == "__main__":
    main(sys.argv[1:])
