#!/usr/bin/env python3
"""GGUF reference files and checks, made with the `gguf` package (requirements-gguf.txt).

Subcommands:
  fixtures OUT_DIR   writes the small GGUF test files of models/src/test/resources/gguf/:
                     types.gguf (v3) and types-v2.gguf: metadata of every value type and one or
                     two tensors of every tensor type cohx reads; types-expected.gguf: the same
                     tensor names as f32, dequantized by gguf.quants.dequantize, and "source.NAME"
                     for the f32 values gguf quantized into NAME; types-expected.json:
                     the metadata as written; tiny-llama.gguf: the tiny golden LLaMA
                     (golden/llama/model.safetensors) converted as llama.cpp's converter does
                     (q/k rows permuted back to Meta's interleaved rotary layout), with a small
                     gpt2-style vocabulary and a chat template.
  hashes GGUF OUT    sha256 of every tensor's gguf.quants.dequantize output (f32, little-endian,
                     C order) as JSON, with its type and shape: the golden of a real model file.
  dump GGUF OUT_DIR  reads a GGUF file with gguf.GGUFReader and writes dump.json (version,
                     alignment, metadata with types, tensors) and NAME.f32 (dequantized values) per
                     tensor, so Java tests can check files that cohx wrote against an independent reader.
  check-export CKPT_DIR GGUF
                     checks a GGUF file cohx exported (cohx convert cohx-to-gguf) against the cohx
                     checkpoint it came from, every tensor: the canonical names mapped to llama.cpp's
                     by the table in CANONICAL_TO_GGML (written here from the format, not taken from
                     cohx), linear weights transposed to [out, in]; F32 tensors must be equal bit for
                     bit; Q8_0 tensors must hold exactly the bytes gguf.quants.quantize makes of the
                     checkpoint's values and lie within Q8_0's error (half a quantization step per
                     block); F16/BF16 likewise against gguf's own conversion. Prints one JSON line;
                     exits 1 on any difference.

Q8_K: gguf.quants has neither quantize nor dequantize for it; its values are computed here from
the format (x = d * q with an f32 d per 256 values), the same arithmetic as ggml's
dequantize_row_q8_K. For Q4_K, Q5_K and Q6_K (dequantize only) the blocks are random bytes with
finite f16 scales; Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and BF16 tensors come from gguf's own quantize,
plus one tensor of random blocks each.
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np

import gguf
from gguf import GGMLQuantizationType as T
from gguf import GGUFValueType as V

PINNED = {"gguf": "0.19.0", "numpy": "2.4.6"}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QK_K = 256


def check_versions():
    from importlib.metadata import version
    for pkg, want in PINNED.items():
        got = version(pkg)
        if got != want:
            sys.exit(f"gguf_reference.py: {pkg} {got} is installed, the goldens are pinned to {want} "
                     f"(pip install -r tools/reference/requirements-gguf.txt)")


def finite_f16_bits(rng, n):
    """Random f16 bit patterns, never inf/nan (exponent 31 loses a bit): covers negatives and subnormals."""
    x = rng.integers(0, 1 << 16, size=n, dtype=np.uint32).astype(np.uint16)
    bad = ((x >> 10) & 0x1F) == 0x1F
    x[bad] &= np.uint16(0xBFFF)
    return x


def random_blocks(rng, qtype, n_blocks):
    """n_blocks random blocks of qtype with finite scales, as uint8 [n_blocks, type_size]."""
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint16).astype(np.uint8)
    f16 = lambda k: finite_f16_bits(rng, n_blocks * k).view(np.uint8).reshape(n_blocks, 2 * k)  # noqa: E731
    if qtype in (T.Q4_0, T.Q5_0, T.Q8_0):
        raw[:, 0:2] = f16(1)                       # d first
    elif qtype in (T.Q4_1, T.Q5_1, T.Q4_K, T.Q5_K):
        raw[:, 0:4] = f16(2)                       # d, m (or d, dmin) first
    elif qtype == T.Q6_K:
        raw[:, size - 2:] = f16(1)                 # ql, qh, scales, then d last
    elif qtype == T.Q8_K:
        d = (rng.standard_normal(n_blocks) * 1e-3).astype(np.float32)
        d[::7] = np.float32(1e-40)                 # a subnormal f32 scale now and then
        raw[:, 0:4] = d.view(np.uint8).reshape(n_blocks, 4)
    return raw


def dequantize_q8_k(raw):
    """Q8_K per the format: f32 d, 256 int8 q, 16 int16 sums (unused); x = d * q in f32."""
    d = raw[:, 0:4].copy().view(np.float32)
    q = raw[:, 4:4 + QK_K].copy().view(np.int8).astype(np.float32)
    return d * q


def dequantize(raw, qtype):
    if qtype == T.Q8_K:
        rows = raw.reshape(-1, raw.shape[-1])
        block, size = gguf.GGML_QUANT_SIZES[qtype]
        out = dequantize_q8_k(rows.reshape(-1, size))
        return out.reshape(*raw.shape[:-1], raw.shape[-1] // size * block)
    return gguf.quants.dequantize(raw, qtype)


# (name, type, numpy shape, "quantize" from normal data or "random" blocks)
TYPE_TENSORS = [
    ("t.f32", T.F32, (3, 40), "quantize"),
    ("t.f32.vector", T.F32, (7,), "quantize"),
    ("t.f16", T.F16, (2, 3, 64), "quantize"),
    ("t.bf16", T.BF16, (4, 96), "quantize"),
    ("t.bf16.random", T.BF16, (2, 64), "random"),
]
for _t in (T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0):
    TYPE_TENSORS.append(("t." + _t.name.lower(), _t, (4, 512), "quantize"))
    TYPE_TENSORS.append(("t." + _t.name.lower() + ".random", _t, (3, 64), "random"))
for _t in (T.Q4_K, T.Q5_K, T.Q6_K, T.Q8_K):
    TYPE_TENSORS.append(("t." + _t.name.lower(), _t, (3, 512), "random"))


def type_tensor(rng, qtype, shape, how):
    """(raw array for GGUFWriter, raw_dtype or None, f32 source values or None)."""
    n = int(np.prod(shape))
    if qtype == T.F32:
        return (rng.standard_normal(shape) * 0.5).astype(np.float32), None, None
    if qtype == T.F16:
        x = (rng.standard_normal(shape) * 0.5).astype(np.float32)
        x.reshape(-1)[::5] *= 1e-4                         # some values round to f16 subnormals
        return x.astype(np.float16), None, x
    if qtype == T.BF16 and how == "random":
        bits = rng.integers(0, 1 << 16, size=n, dtype=np.uint32).astype(np.uint16)
        bits[((bits >> 7) & 0xFF) == 0xFF] &= np.uint16(0xBFFF)  # finite only
        return bits.view(np.uint8).reshape(*shape[:-1], shape[-1] * 2), qtype, None
    if how == "quantize":
        x = (rng.standard_normal(shape) * 0.05).astype(np.float32)
        x.reshape(-1)[::97] *= 20                          # a few outliers per row, as real weights have
        x.reshape(-1)[5] = 0.0
        return gguf.quants.quantize(x, qtype), qtype, x
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    raw = random_blocks(rng, qtype, n // block)
    return raw.reshape(*shape[:-1], shape[-1] // block * size), qtype, None


# Metadata of every value type: (key, value, type, array element type)
METADATA = [
    ("general.architecture", "cohx-test", V.STRING, None),
    ("test.u8", 250, V.UINT8, None),
    ("test.i8", -120, V.INT8, None),
    ("test.u16", 65000, V.UINT16, None),
    ("test.i16", -32000, V.INT16, None),
    ("test.u32", 4_000_000_000, V.UINT32, None),
    ("test.i32", -2_000_000_000, V.INT32, None),
    ("test.f32", 0.1, V.FLOAT32, None),
    ("test.bool", True, V.BOOL, None),
    ("test.string", "héllo, 世界 \n\"quoted\"", V.STRING, None),
    ("test.u64", 18_000_000_000_000_000_000, V.UINT64, None),
    ("test.i64", -9_000_000_000_000_000_000, V.INT64, None),
    ("test.f64", 1e-300, V.FLOAT64, None),
    ("test.array.u8", [0, 1, 255], V.ARRAY, V.UINT8),
    ("test.array.i8", [-128, 0, 127], V.ARRAY, V.INT8),
    ("test.array.u16", [0, 65535], V.ARRAY, V.UINT16),
    ("test.array.i16", [-32768, 32767], V.ARRAY, V.INT16),
    ("test.array.u32", [0, 4294967295], V.ARRAY, V.UINT32),
    ("test.array.i32", [-2147483648, 2147483647, 3], V.ARRAY, V.INT32),
    ("test.array.u64", [0, 18446744073709551615], V.ARRAY, V.UINT64),
    ("test.array.i64", [-9223372036854775808, 9223372036854775807], V.ARRAY, V.INT64),
    ("test.array.f32", [0.5, -1.25, 3e38], V.ARRAY, V.FLOAT32),
    ("test.array.f64", [0.1, -2.5e-310], V.ARRAY, V.FLOAT64),
    ("test.array.bool", [True, False, True], V.ARRAY, V.BOOL),
    ("test.array.string", ["a", "", "Ġthe", "<|im_end|>"], V.ARRAY, V.STRING),
    ("test.array.nested", [[1, 2], [3]], V.ARRAY, V.ARRAY),
]


def json_value(value, vtype, sub):
    if vtype == V.FLOAT32:
        return float(np.float32(value))
    if vtype == V.ARRAY and sub == V.FLOAT32:
        return [float(np.float32(x)) for x in value]
    return value


def write_types(out_dir, rng):
    path = os.path.join(out_dir, "types.gguf")
    w = gguf.GGUFWriter(path, arch="cohx-test", use_temp_file=False)
    # GGUFWriter adds general.architecture itself; the rest of METADATA goes in order.
    for key, value, vtype, sub in METADATA[1:]:
        if vtype == V.ARRAY and sub == V.ARRAY:
            w.add_key_value(key, value, V.ARRAY, sub_type=V.ARRAY)
        else:
            w.add_key_value(key, value, vtype, sub_type=sub)
    expected = gguf.GGUFWriter(os.path.join(out_dir, "types-expected.gguf"), arch="cohx-test-expected",
                               use_temp_file=False)
    for name, qtype, shape, how in TYPE_TENSORS:
        raw, raw_dtype, source = type_tensor(rng, qtype, shape, how)
        if raw_dtype is None:
            w.add_tensor(name, raw)
            values = raw.astype(np.float32)
        else:
            w.add_tensor(name, raw, raw_dtype=raw_dtype)
            values = dequantize(raw, qtype)
        assert values.shape == shape and values.dtype == np.float32, (name, values.shape, values.dtype)
        expected.add_tensor(name, np.ascontiguousarray(values))
        if source is not None:
            # What was quantized: Java's F16, BF16 and Q8_0 encoders must give the same bytes.
            expected.add_tensor("source." + name, np.ascontiguousarray(source))
    for writer in (w, expected):
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    # v2 has the same layout as v3 (v3 only allowed big-endian files): patch the version field.
    with open(path, "rb") as f:
        data = bytearray(f.read())
    assert struct.unpack_from("<I", data, 4)[0] == 3
    struct.pack_into("<I", data, 4, 2)
    with open(os.path.join(out_dir, "types-v2.gguf"), "wb") as f:
        f.write(data)
    meta = {key: {"type": vtype.name, "element_type": sub.name if sub is not None else None,
                  "value": json_value(value, vtype, sub)} for key, value, vtype, sub in METADATA}
    tensors = [{"name": n, "type": q.name, "shape": list(s)} for n, q, s, _ in TYPE_TENSORS]
    with open(os.path.join(out_dir, "types-expected.json"), "w") as f:
        json.dump({"gguf_version": PINNED["gguf"], "metadata": meta, "tensors": tensors}, f, indent=1, ensure_ascii=False)
        f.write("\n")


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            assert info["dtype"] == "F32", (name, info["dtype"])
            start, end = info["data_offsets"]
            f.seek(base + start)
            out[name] = np.frombuffer(f.read(end - start), dtype="<f4").reshape(info["shape"])
        return out


def llama_cpp_permute(w, n_head):
    """Hugging Face's rotate-half q/k rows back to Meta's interleaved pairs, as llama.cpp's converter does."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def write_tiny_llama(out_dir):
    src = os.path.join(ROOT, "models/src/test/resources/golden/llama")
    cfg = json.load(open(os.path.join(src, "config.json")))
    t = read_safetensors(os.path.join(src, "model.safetensors"))
    heads, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    w = gguf.GGUFWriter(os.path.join(out_dir, "tiny-llama.gguf"), arch="llama", use_temp_file=False)
    w.add_name("cohx tiny golden llama")
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    w.add_rope_freq_base(cfg["rope_theta"])
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_vocab_size(cfg["vocab_size"])
    w.add_rope_dimension_count(cfg["hidden_size"] // heads)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    # A gpt2-style vocabulary of vocab_size tokens: 3 specials, then byte-level pieces and merges.
    tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tokens += [chr(0x100 + i) if i < 33 else chr(i) for i in range(33, 33 + cfg["vocab_size"] - 3 - 20)]
    merges = []
    for a, b in [("h", "e"), ("l", "l"), ("he", "ll"), ("o", "r"), ("Ġ", "t"), ("Ġt", "he")]:
        merges.append(a + " " + b)
    while len(tokens) < cfg["vocab_size"]:
        tokens.append("x" * (len(tokens) % 7 + 2) + str(len(tokens)))
    assert len(tokens) == cfg["vocab_size"]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(tokens)
    w.add_token_types([3, 3, 3] + [1] * (len(tokens) - 3))
    w.add_token_merges(merges)
    w.add_bos_token_id(cfg["bos_token_id"])
    w.add_eos_token_id(cfg["eos_token_id"])
    w.add_pad_token_id(cfg["eos_token_id"])
    w.add_add_bos_token(False)
    w.add_chat_template(CHATML)
    w.add_tensor("token_embd.weight", t["model.embed_tokens.weight"])
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w.add_tensor(f"blk.{i}.attn_norm.weight", t[p + "input_layernorm.weight"])
        w.add_tensor(f"blk.{i}.attn_q.weight", llama_cpp_permute(t[p + "self_attn.q_proj.weight"], heads))
        w.add_tensor(f"blk.{i}.attn_k.weight", llama_cpp_permute(t[p + "self_attn.k_proj.weight"], kv))
        w.add_tensor(f"blk.{i}.attn_v.weight", t[p + "self_attn.v_proj.weight"])
        w.add_tensor(f"blk.{i}.attn_output.weight", t[p + "self_attn.o_proj.weight"])
        w.add_tensor(f"blk.{i}.ffn_norm.weight", t[p + "post_attention_layernorm.weight"])
        w.add_tensor(f"blk.{i}.ffn_gate.weight", t[p + "mlp.gate_proj.weight"])
        w.add_tensor(f"blk.{i}.ffn_up.weight", t[p + "mlp.up_proj.weight"])
        w.add_tensor(f"blk.{i}.ffn_down.weight", t[p + "mlp.down_proj.weight"])
    w.add_tensor("output_norm.weight", t["model.norm.weight"])
    w.add_tensor("output.weight", t["lm_head.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def cmd_fixtures(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    write_types(out_dir, np.random.default_rng(20261203))
    write_tiny_llama(out_dir)


def cmd_hashes(path, out):
    r = gguf.GGUFReader(path)
    tensors = {}
    for t in r.tensors:
        values = np.ascontiguousarray(dequantize(t.data, t.tensor_type), dtype="<f4")
        tensors[t.name] = {"type": t.tensor_type.name, "shape": [int(x) for x in values.shape],
                           "sha256": hashlib.sha256(values.tobytes()).hexdigest()}
    doc = {"file": os.path.basename(path), "gguf_version": PINNED["gguf"],
           "note": "sha256 of gguf.quants.dequantize output per tensor: f32 little-endian, numpy (row-major) shape",
           "tensors": tensors}
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


# cohx canonical parameter -> (llama.cpp tensor name, transposed). {i} is the block index.
CANONICAL_TO_GGML = {
    "transformer.wte.embedding": ("token_embd.weight", False),
    "transformer.ln_f.kernel": ("output_norm.weight", False),
    "lm_head.kernel": ("output.weight", True),
    "transformer.h.{i}.attention_norm.kernel": ("blk.{i}.attn_norm.weight", False),
    "transformer.h.{i}.ffn_norm.kernel": ("blk.{i}.ffn_norm.weight", False),
    "transformer.h.{i}.attention.wq.kernel": ("blk.{i}.attn_q.weight", True),
    "transformer.h.{i}.attention.wk.kernel": ("blk.{i}.attn_k.weight", True),
    "transformer.h.{i}.attention.wv.kernel": ("blk.{i}.attn_v.weight", True),
    "transformer.h.{i}.attention.wo.kernel": ("blk.{i}.attn_output.weight", True),
    "transformer.h.{i}.feed_forward.w1.kernel": ("blk.{i}.ffn_gate.weight", True),
    "transformer.h.{i}.feed_forward.w2.kernel": ("blk.{i}.ffn_down.weight", True),
    "transformer.h.{i}.feed_forward.w3.kernel": ("blk.{i}.ffn_up.weight", True),
}


def ggml_name(canonical):
    parts = canonical.split(".")
    if parts[:2] == ["transformer", "h"]:
        i = parts[2]
        key = ".".join(parts[:2] + ["{i}"] + parts[3:])
        name, transposed = CANONICAL_TO_GGML[key]
        return name.replace("{i}", i), transposed
    return CANONICAL_TO_GGML[canonical]


def cmd_check_export(ckpt_dir, path):
    index = os.path.join(ckpt_dir, "params.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["params.safetensors"]
    params = {}
    for f in files:
        params.update(read_safetensors(os.path.join(ckpt_dir, f)))
    r = gguf.GGUFReader(path)
    tensors = {t.name: t for t in r.tensors}
    problems, counts, worst_q8 = [], {}, 0.0
    expected = set()
    for canonical, value in params.items():
        name, transposed = ggml_name(canonical)
        expected.add(name)
        want = np.ascontiguousarray(value.T if transposed else value, dtype=np.float32)
        t = tensors.get(name)
        if t is None:
            problems.append(f"{name} ({canonical}) is missing")
            continue
        got = dequantize(t.data, t.tensor_type)
        counts[t.tensor_type.name] = counts.get(t.tensor_type.name, 0) + 1
        if got.shape != want.shape:
            problems.append(f"{name}: shape {got.shape}, checkpoint {want.shape}")
            continue
        if t.tensor_type == T.F32:
            if not np.array_equal(got.view(np.uint32), want.view(np.uint32)):
                problems.append(f"{name}: F32 values differ (max {np.abs(got - want).max()})")
        elif t.tensor_type in (T.F16, T.BF16, T.Q8_0):
            made = gguf.quants.quantize(want, t.tensor_type)
            if not np.array_equal(made.view(np.uint8).reshape(-1), np.asarray(t.data).view(np.uint8).reshape(-1)):
                problems.append(f"{name}: {t.tensor_type.name} bytes differ from gguf.quants.quantize of the checkpoint")
            if t.tensor_type == T.Q8_0:
                blocks = want.reshape(-1, 32)
                step = np.abs(blocks).max(axis=1, keepdims=True) / 127
                err = np.abs(got.reshape(-1, 32) - blocks)
                # Half a step, widened by the rounding of the scale d to f16 (|q| <= 127 steps of 2^-11 relative).
                bound = step * (0.5 + 127 * 2.0 ** -11) + 1e-30
                worst_q8 = max(worst_q8, float((err / bound).max()))
                if (err > bound).any():
                    problems.append(f"{name}: Q8_0 error {float(err.max())} exceeds half a quantization step")
        else:
            problems.append(f"{name}: type {t.tensor_type.name} is not one cohx writes")
    for name in tensors:
        if name not in expected:
            problems.append(f"{name} is in the file but not in the checkpoint")
    print(json.dumps({"tensors": len(tensors), "checked": len(params), "types": counts,
                      "q8_0_worst_error_over_bound": round(worst_q8, 4), "problems": problems[:20]}))
    if problems:
        sys.exit(1)


def field_value(field):
    vtype = field.types[0]
    if vtype == V.ARRAY:
        return [x.item() if hasattr(x, "item") else x for x in field.contents()]
    v = field.contents()
    return v.item() if hasattr(v, "item") else v


def cmd_dump(path, out_dir):
    r = gguf.GGUFReader(path)
    os.makedirs(out_dir, exist_ok=True)
    meta = {}
    for key, field in r.fields.items():
        if key.startswith("GGUF."):
            continue
        meta[key] = {"type": field.types[0].name,
                     "element_type": field.types[-1].name if field.types[0] == V.ARRAY else None,
                     "value": field_value(field)}
    tensors = []
    for i, t in enumerate(r.tensors):
        values = np.ascontiguousarray(dequantize(t.data, t.tensor_type), dtype="<f4")
        file = f"{i:05d}.f32"
        values.tofile(os.path.join(out_dir, file))
        tensors.append({"name": t.name, "type": t.tensor_type.name, "shape": [int(x) for x in values.shape],
                        "offset": int(t.data_offset), "file": file})
    version = int(r.fields["GGUF.version"].contents())
    with open(os.path.join(out_dir, "dump.json"), "w") as f:
        json.dump({"version": version, "alignment": r.alignment, "data_offset": r.data_offset,
                   "metadata": meta, "tensors": tensors}, f, ensure_ascii=False)


def main(argv):
    check_versions()
    if len(argv) == 2 and argv[0] == "fixtures":
        cmd_fixtures(argv[1])
    elif len(argv) == 3 and argv[0] == "hashes":
        cmd_hashes(argv[1], argv[2])
    elif len(argv) == 3 and argv[0] == "dump":
        cmd_dump(argv[1], argv[2])
    elif len(argv) == 3 and argv[0] == "check-export":
        cmd_check_export(argv[1], argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
