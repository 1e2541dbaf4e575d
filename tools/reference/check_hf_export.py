#!/usr/bin/env python3
"""Checks that folders written by `cohx convert cohx-to-hf` load in Hugging Face transformers and
compute what the original weights compute.

  python3 -m pip install torch transformers numpy
  python3 tools/reference/check_hf_export.py LLAMA_FROM_META GPTJ_EXPORT LLAMA_EXPORT

LLAMA_FROM_META: the fixture llama-meta converted with meta-to-cohx then cohx-to-hf. Its logits
from transformers (rotate-half rotary) are compared with an independent Meta-style forward pass
(interleaved complex rotary, written below) over the original consolidated.NN.pth shards, so the
q/k permutation is checked end to end. GPTJ_EXPORT / LLAMA_EXPORT: any export of the gptj / llama
fixtures; their logits must equal those of the fixture HF folders. Prints one JSON line per check.
"""
import json
import os
import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models", "src", "test",
                   "resources", "checkpoints")
IDS = torch.tensor([[1, 5, 9, 3, 60, 7, 7, 2]])


def load(folder):
    model, info = AutoModelForCausalLM.from_pretrained(folder, output_loading_info=True, dtype=torch.float32)
    bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    assert not bad, f"{folder}: {bad}"
    return model.eval()


def logits(folder):
    with torch.no_grad():
        return load(folder)(IDS).logits[0].double().numpy()


def meta_forward(meta_dir):
    """LLaMA as Meta's reference code computes it, from the consolidated shards."""
    params = json.load(open(os.path.join(meta_dir, "params.json")))
    shards = [torch.load(os.path.join(meta_dir, f), weights_only=True)
              for f in sorted(os.listdir(meta_dir)) if f.startswith("consolidated.")]

    def w(name, dim):
        parts = [s[name].double().numpy() for s in shards]
        return parts[0] if dim is None else np.concatenate(parts, axis=dim)

    d, nh, eps = params["dim"], params["n_heads"], params["norm_eps"]
    hd = d // nh
    x = w("tok_embeddings.weight", 1)[IDS[0].numpy()]
    T = x.shape[0]
    freqs = 1.0 / (10000 ** (np.arange(0, hd, 2)[: hd // 2] / hd))
    cis = np.exp(1j * np.outer(np.arange(T), freqs))  # [T, hd/2]

    def rms(v, g):
        return v / np.sqrt((v * v).mean(-1, keepdims=True) + eps) * g

    def rope(v):  # v: [T, nh, hd], interleaved pairs as complex numbers
        c = v.reshape(T, nh, hd // 2, 2)
        z = (c[..., 0] + 1j * c[..., 1]) * cis[:, None, :]
        return np.stack([z.real, z.imag], -1).reshape(T, nh, hd)

    mask = np.triu(np.full((T, T), -np.inf), 1)
    for i in range(params["n_layers"]):
        p = f"layers.{i}."
        h = rms(x, w(p + "attention_norm.weight", None))
        q = rope((h @ w(p + "attention.wq.weight", 0).T).reshape(T, nh, hd))
        k = rope((h @ w(p + "attention.wk.weight", 0).T).reshape(T, nh, hd))
        v = (h @ w(p + "attention.wv.weight", 0).T).reshape(T, nh, hd)
        s = np.einsum("thd,shd->hts", q, k) / np.sqrt(hd) + mask
        a = np.exp(s - s.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        o = np.einsum("hts,shd->thd", a, v).reshape(T, d)
        x = x + o @ w(p + "attention.wo.weight", 1).T
        h = rms(x, w(p + "ffn_norm.weight", None))
        g = h @ w(p + "feed_forward.w1.weight", 0).T
        u = h @ w(p + "feed_forward.w3.weight", 0).T
        x = x + ((g / (1 + np.exp(-g))) * u) @ w(p + "feed_forward.w2.weight", 1).T
    return rms(x, w("norm.weight", None)) @ w("output.weight", 0).T


def report(name, got, want):
    err = float(np.abs(got - want).max())
    scale = float(np.abs(want).max())
    ok = err <= 1e-4 * scale
    print(json.dumps({"check": name, "max_abs_err": err, "logit_scale": scale, "ok": ok}))
    return ok


def main():
    meta_export, gptj_export, llama_export = sys.argv[1:4]
    ok = report("llama meta->cohx->hf vs Meta-style forward", logits(meta_export),
                meta_forward(os.path.join(FIX, "llama-meta")))
    ok &= report("llama hf fixture vs Meta-style forward", logits(os.path.join(FIX, "llama-hf")),
                 meta_forward(os.path.join(FIX, "llama-meta")))
    ok &= report("gptj export vs hf fixture", logits(gptj_export), logits(os.path.join(FIX, "gptj-hf")))
    ok &= report("llama export vs hf fixture", logits(llama_export), logits(os.path.join(FIX, "llama-hf")))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
