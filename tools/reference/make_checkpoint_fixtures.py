#!/usr/bin/env python3
"""Writes the tiny checkpoint fixtures of models/src/test/resources/checkpoints/.

Independent of cohx's Java code: it lays out the same random weights in every format users
bring (Hugging Face safetensors + config.json, Meta consolidated.NN.pth shards + params.json,
the reference CoH/EasyLM streaming msgpack, params-only and train state) and writes the
canonical cohx tensors (flax layout, f32) as the expected result of every import.

The weights are k/1024 for integers |k| < 128 (norm scales 1 + k/128), exactly representable in f32, f16 and bf16, so
every format holds the same values and conversions must agree bit for bit.

Needs numpy, ml_dtypes, msgpack and safetensors (no torch: the .pth zips are written with the
standard library in torch.save's layout, and the msgpack records as flax's to_bytes writes them).
Regenerate with:
    python3 -m pip install numpy ml_dtypes msgpack safetensors
    python3 tools/reference/make_checkpoint_fixtures.py
"""
import collections
import io
import json
import os
import pickle
import sys
import types
import zipfile

import ml_dtypes
import msgpack
import numpy as np
from safetensors.numpy import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "models", "src", "test", "resources", "checkpoints")

LLAMA = dict(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
             num_attention_heads=2, max_position_embeddings=128, rms_norm_eps=1e-6)
GPTJ = dict(vocab_size=64, n_embd=16, n_layer=2, n_head=2, rotary_dim=4, n_positions=128)


def weights(rng, shape):
    return (rng.integers(-127, 128, size=shape) / 1024.0).astype(np.float32)


def norm(rng, shape):
    """Around 1, still with at most 8 significant bits (exact in bf16)."""
    return (1.0 + rng.integers(-64, 64, size=shape) / 128.0).astype(np.float32)


# ---------- canonical trees (flax layout: kernels are [in, out]) ----------

def llama_canonical(rng):
    d, f, v = LLAMA["hidden_size"], LLAMA["intermediate_size"], LLAMA["vocab_size"]
    t = collections.OrderedDict()
    t["transformer.wte.embedding"] = weights(rng, (v, d))
    for i in range(LLAMA["num_hidden_layers"]):
        b = f"transformer.h.{i}."
        for w in ("wq", "wk", "wv", "wo"):
            t[b + f"attention.{w}.kernel"] = weights(rng, (d, d))
        t[b + "feed_forward.w1.kernel"] = weights(rng, (d, f))
        t[b + "feed_forward.w2.kernel"] = weights(rng, (f, d))
        t[b + "feed_forward.w3.kernel"] = weights(rng, (d, f))
        t[b + "attention_norm.kernel"] = norm(rng, (d,))
        t[b + "ffn_norm.kernel"] = norm(rng, (d,))
    t["transformer.ln_f.kernel"] = norm(rng, (d,))
    t["lm_head.kernel"] = weights(rng, (d, v))
    return t


def gptj_canonical(rng):
    d, v = GPTJ["n_embd"], GPTJ["vocab_size"]
    f = 4 * d
    t = collections.OrderedDict()
    t["transformer.wte.embedding"] = weights(rng, (v, d))
    for i in range(GPTJ["n_layer"]):
        b = f"transformer.h.{i}."
        t[b + "ln_1.scale"] = norm(rng, (d,))
        t[b + "ln_1.bias"] = weights(rng, (d,))
        for w in ("q_proj", "k_proj", "v_proj", "out_proj"):
            t[b + f"attn.{w}.kernel"] = weights(rng, (d, d))
        t[b + "mlp.fc_in.kernel"] = weights(rng, (d, f))
        t[b + "mlp.fc_in.bias"] = weights(rng, (f,))
        t[b + "mlp.fc_out.kernel"] = weights(rng, (f, d))
        t[b + "mlp.fc_out.bias"] = weights(rng, (d,))
    t["transformer.ln_f.scale"] = norm(rng, (d,))
    t["transformer.ln_f.bias"] = weights(rng, (d,))
    t["lm_head.kernel"] = weights(rng, (d, v))
    t["lm_head.bias"] = weights(rng, (v,))
    return t


# ---------- Hugging Face layout ----------

def meta_to_hf_rows(w, n_heads):
    """HF's convert_llama_weights_to_hf permutation of a [out, in] q/k weight (interleaved -> halves)."""
    out, inp = w.shape
    return w.reshape(n_heads, out // n_heads // 2, 2, inp).transpose(0, 2, 1, 3).reshape(out, inp)


def llama_hf(canon):
    h = LLAMA["num_attention_heads"]
    hf = collections.OrderedDict()
    names = {"attention.wq.kernel": "self_attn.q_proj.weight", "attention.wk.kernel": "self_attn.k_proj.weight",
             "attention.wv.kernel": "self_attn.v_proj.weight", "attention.wo.kernel": "self_attn.o_proj.weight",
             "feed_forward.w1.kernel": "mlp.gate_proj.weight", "feed_forward.w2.kernel": "mlp.down_proj.weight",
             "feed_forward.w3.kernel": "mlp.up_proj.weight", "attention_norm.kernel": "input_layernorm.weight",
             "ffn_norm.kernel": "post_attention_layernorm.weight"}
    for k, v in canon.items():
        if k == "transformer.wte.embedding":
            hf["model.embed_tokens.weight"] = v
        elif k == "transformer.ln_f.kernel":
            hf["model.norm.weight"] = v
        elif k == "lm_head.kernel":
            hf["lm_head.weight"] = v.T.copy()
        else:
            layer, leaf = k[len("transformer.h."):].split(".", 1)
            w = v if v.ndim == 1 else v.T.copy()
            if leaf in ("attention.wq.kernel", "attention.wk.kernel"):
                w = meta_to_hf_rows(w, h)
            hf[f"model.layers.{layer}.{names[leaf]}"] = np.ascontiguousarray(w)
    return hf


def gptj_hf(canon):
    hf = collections.OrderedDict()
    for k, v in canon.items():
        if k == "transformer.wte.embedding":
            name = "transformer.wte.weight"
        elif k == "lm_head.kernel":
            name = "lm_head.weight"
        else:
            name = k.replace(".kernel", ".weight").replace("ln_1.scale", "ln_1.weight").replace("ln_f.scale", "ln_f.weight")
        w = v.T.copy() if (k.endswith(".kernel")) else v
        hf[name] = np.ascontiguousarray(w)
    return hf


def write_hf(folder, tensors, config):
    os.makedirs(folder, exist_ok=True)
    save_file(dict(tensors), os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


# ---------- Meta consolidated.NN.pth, in torch.save's zip layout, without torch ----------

def _fake_torch():
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise RuntimeError("only pickled here")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    for name in ("HalfStorage", "FloatStorage", "BFloat16Storage"):
        cls = type(name, (), {})
        cls.__module__ = "torch"
        setattr(torch, name, cls)
    sys.modules["torch"] = torch
    sys.modules["torch._utils"] = utils
    return torch


class _Storage:
    def __init__(self, key, cls, numel):
        self.key, self.cls, self.numel = key, cls, numel


class _Tensor:
    def __init__(self, storage, shape):
        self.storage, self.shape = storage, shape

    def __reduce_ex__(self, protocol):
        stride, acc = [], 1
        for d in reversed(self.shape):
            stride.insert(0, acc)
            acc *= d
        return (sys.modules["torch._utils"]._rebuild_tensor_v2,
                (self.storage, 0, tuple(self.shape), tuple(stride), False, collections.OrderedDict()))


def write_pth(path, state, torch):
    prefix = os.path.splitext(os.path.basename(path))[0]
    storages, objs = [], collections.OrderedDict()
    for i, (name, arr) in enumerate(state.items()):
        st = _Storage(str(i), torch.HalfStorage, arr.size)
        storages.append((st, arr.astype(np.float16)))
        objs[name] = _Tensor(st, list(arr.shape))
    buf = io.BytesIO()

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, _Storage):
                return ("storage", obj.cls, obj.key, "cpu", obj.numel)
            return None

    P(buf, protocol=2).dump(objs)
    def entry(name):  # a fixed timestamp keeps the fixture files reproducible byte for byte
        return zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(entry(f"{prefix}/data.pkl"), buf.getvalue())
        z.writestr(entry(f"{prefix}/byteorder"), "little")
        for st, arr in storages:
            z.writestr(entry(f"{prefix}/data/{st.key}"), arr.tobytes())
        z.writestr(entry(f"{prefix}/version"), "3\n")


def llama_meta(canon, n_shards):
    """Meta's names and layout ([out, in], interleaved rotary), split over model-parallel ranks."""
    full = collections.OrderedDict()
    split = {}
    for k, v in canon.items():
        if k == "transformer.wte.embedding":
            full["tok_embeddings.weight"], split["tok_embeddings.weight"] = v, 1
        elif k == "transformer.ln_f.kernel":
            full["norm.weight"], split["norm.weight"] = v, None
        elif k == "lm_head.kernel":
            full["output.weight"], split["output.weight"] = v.T, 0
        else:
            layer, leaf = k[len("transformer.h."):].split(".", 1)
            name = f"layers.{layer}." + leaf.replace(".kernel", ".weight")
            if v.ndim == 1:
                full[name], split[name] = v, None
            else:
                full[name] = v.T
                split[name] = 1 if leaf in ("attention.wo.kernel", "feed_forward.w2.kernel") else 0
    full["rope.freqs"] = np.zeros(LLAMA["hidden_size"] // LLAMA["num_attention_heads"] // 2, np.float32)
    split["rope.freqs"] = None
    shards = [collections.OrderedDict() for _ in range(n_shards)]
    for name, v in full.items():
        parts = [v] * n_shards if split[name] is None else np.split(v, n_shards, axis=split[name])
        for s, p in zip(shards, parts):
            s[name] = np.ascontiguousarray(p)
    return shards


# ---------- reference streaming msgpack (flax to_bytes per record) ----------

def flax_ndarray(arr):
    payload = msgpack.packb((arr.shape, arr.dtype.name, arr.tobytes("C")), use_bin_type=True)
    return msgpack.ExtType(1, payload)


def flax_to_bytes(value):
    if isinstance(value, np.ndarray):
        return msgpack.packb(value, default=lambda x: flax_ndarray(x), strict_types=True)
    return msgpack.packb(value, default=lambda x: flax_ndarray(x), strict_types=True)


def flax_chunked(arr, chunk_elems):
    flat = arr.reshape(-1)
    chunks = [flat[i:i + chunk_elems] for i in range(0, flat.size, chunk_elems)]
    return {"__msgpack_chunked_array__": True,
            "shape": {str(i): d for i, d in enumerate(arr.shape)},
            "chunks": {str(i): c for i, c in enumerate(chunks)}}


def write_streaming(path, items):
    packer = msgpack.Packer()
    with open(path, "wb") as f:
        for key, value in items:
            f.write(packer.pack((key, flax_to_bytes(value))))


def bf16(canon):
    return [(tuple(k.split(".")), v.astype(ml_dtypes.bfloat16)) for k, v in canon.items()]


def main():
    rng = np.random.default_rng(20240601)
    llama = llama_canonical(rng)
    gptj = gptj_canonical(rng)
    os.makedirs(OUT, exist_ok=True)

    save_file(dict(llama), os.path.join(OUT, "llama-expected.safetensors"))
    save_file(dict(gptj), os.path.join(OUT, "gptj-expected.safetensors"))

    write_hf(os.path.join(OUT, "llama-hf"), llama_hf(llama), {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
        "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": False, "torch_dtype": "float32",
        "transformers_version": "4.40.0", **LLAMA})
    write_hf(os.path.join(OUT, "gptj-hf"), gptj_hf(gptj), {
        "architectures": ["GPTJForCausalLM"], "model_type": "gptj", "activation_function": "gelu_new",
        "n_inner": None, "layer_norm_epsilon": 1e-5, "bos_token_id": 50256 % GPTJ["vocab_size"],
        "eos_token_id": 50256 % GPTJ["vocab_size"], "tie_word_embeddings": False, "torch_dtype": "float32",
        "transformers_version": "4.40.0", **GPTJ})

    torch = _fake_torch()
    meta_dir = os.path.join(OUT, "llama-meta")
    os.makedirs(meta_dir, exist_ok=True)
    for i, shard in enumerate(llama_meta(llama, 2)):
        write_pth(os.path.join(meta_dir, f"consolidated.{i:02d}.pth"), shard, torch)
    with open(os.path.join(meta_dir, "params.json"), "w") as f:
        json.dump({"dim": LLAMA["hidden_size"], "multiple_of": 16, "n_heads": LLAMA["num_attention_heads"],
                   "n_layers": LLAMA["num_hidden_layers"], "norm_eps": 1e-6, "vocab_size": -1}, f)

    write_streaming(os.path.join(OUT, "llama-streaming_params"), bf16(llama))
    write_streaming(os.path.join(OUT, "gptj-streaming_params"), bf16(gptj))

    # A train state as the reference saves it: step, params under ('params', 'params'), optimizer
    # state (here an Adam-like mu in f32 and a count), a None leaf, and one array in flax's chunked form.
    state = [(("step",), np.array(7, np.int32))]
    state += [(("params", "params") + k, v) for k, v in bf16(llama)]
    state += [(("opt_state", "1", "0", "count"), np.array(7, np.int32)),
              (("opt_state", "1", "0", "mu", "lm_head", "kernel"), llama["lm_head.kernel"] * 0.5),
              (("opt_state", "2"), None),
              (("opt_state", "3", "big"), flax_chunked(weights(rng, (4, 6)), 10))]
    write_streaming(os.path.join(OUT, "llama-streaming_train_state"), state)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote fixtures to {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
