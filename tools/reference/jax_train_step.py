#!/usr/bin/env python3
"""The original Chain of Hindsight train step in JAX, for bench/ to time against cohx's.

The step is the one the original LLaMA trainer jits: a Flax LLaMA (RMSNorm, rotary embeddings
applied as complex products, causal attention through flax's dot_product_attention_weights,
SwiGLU MLP, untied head), the CoH loss on the feedback batch and the pretraining loss on the
pretraining batch (each: teacher forcing with [bos] + tokens[:-1], masked per-row mean of
-log p, batch mean), gradients combined as g_hf + pt_loss_weight * g_pt, then optax's chain of
clip_by_global_norm and adamw with the original's defaults (warmup-cosine schedule, b1 0.9,
b2 0.95, weight decay 1e-4 on every parameter), the train state donated, metrics including the
global gradient and parameter norms. Blocks are rematerialised with the named
jax.checkpoint_policies policy as the original's remat_block (its default: nothing_saveable).
The model is written here from the architecture, not taken from the original project.

It runs as a server so that the Java side can interleave its own steps with these on the same
machine: it builds and compiles the step, prints one JSON line ({"ready": ...}), then for each
line "run N" on stdin runs N steps and prints {"steps": N, "step_s": [...], "loss": ...};
"quit" or end of input stops it. "memory" prints the compiled step's memory statistics.

Run it through --bootstrap (the pinned venv shared with make_model_goldens.py):
  python3 tools/reference/jax_train_step.py --bootstrap --hidden 256 --layers 4 ...
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

# The versions the bench was measured with (requirements-models.txt pins these and the rest).
PINNED = {
    "jax": "0.4.35",
    "jaxlib": "0.4.35",
    "flax": "0.10.2",
    "optax": "0.2.5",
    "numpy": "1.26.4",
}

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-models.txt"
# --cuda: the same pins plus JAX's CUDA 12 plugin, in a venv of its own.
PINNED_CUDA = dict(PINNED, **{"jax-cuda12-plugin": "0.4.35", "jax-cuda12-pjrt": "0.4.35"})
REQUIREMENTS_CUDA = HERE / "requirements-jax-cuda12.txt"


def default_venv(cuda=False):
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "cohx" / ("refvenv-cuda12" if cuda else "refvenv")


def bootstrap(argv, venv, pinned=PINNED, requirements=REQUIREMENTS):
    """Creates or updates the pinned venv when needed, then re-runs this script inside it."""
    py = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv.resolve():
        return
    if not py.exists():
        print(f"jax_train_step: creating venv {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    probe = "import importlib.metadata as m, json; print(json.dumps({p: m.version(p) for p in %r}))" % (list(pinned),)
    r = subprocess.run([str(py), "-c", probe], capture_output=True, text=True)
    have = json.loads(r.stdout) if r.returncode == 0 else {}
    if have != pinned:
        print(f"jax_train_step: installing {requirements.name} into {venv}", file=sys.stderr)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "-r", str(requirements)], check=True, stdout=sys.stderr)
    rest = [a for a in argv if a != "--bootstrap"]
    os.execv(str(py), [str(py), str(Path(__file__).resolve())] + rest)


def check_versions(pinned):
    import importlib.metadata as md

    wrong = []
    for pkg, want in pinned.items():
        try:
            got = md.version(pkg)
        except md.PackageNotFoundError:
            got = "not installed"
        if got != want:
            wrong.append(f"{pkg} {got} (need {want})")
    if wrong:
        print("jax_train_step: error: library versions differ: " + ", ".join(wrong)
              + "; run with --bootstrap (pinned venv under " + str(default_venv().parent) + ")", file=sys.stderr)
        sys.exit(2)


def build(args):
    import jax
    import jax.numpy as jnp
    import numpy as np
    import flax.linen as nn
    import optax
    from flax.linen.attention import dot_product_attention_weights
    from flax.training.train_state import TrainState

    dtype = {"f32": jnp.float32, "bf16": jnp.bfloat16}[args.dtype]
    head_dim = args.hidden // args.heads
    init = nn.initializers.normal(0.02)

    class RmsNorm(nn.Module):
        @nn.compact
        def __call__(self, x):
            w = self.param("kernel", nn.initializers.ones, (x.shape[-1],), jnp.float32)
            xf = x.astype(jnp.float32)
            y = (xf * jax.lax.rsqrt(jnp.mean(xf * xf, axis=-1, keepdims=True) + args.eps)).astype(dtype)
            return y * w.astype(dtype)

    # e^{i * pos * freq} for every position the original precomputes (twice the sequence length).
    inv = 1.0 / (args.rope_theta ** (np.arange(0, head_dim, 2)[: head_dim // 2].astype(np.float32) / head_dim))
    angles = np.outer(np.arange(2 * args.seq), inv).astype(np.float32)
    rotary_table = np.complex64(np.cos(angles) + 1j * np.sin(angles))

    def rotate(x, freqs):
        # Interleaved pairs (x0, x1) as one complex number, times the position's rotation.
        pairs = x.astype(jnp.float32).reshape(*x.shape[:-1], -1, 2)
        z = jax.lax.complex(pairs[..., 0], pairs[..., 1]) * freqs[:, :, None, :]
        return jnp.stack((jnp.real(z), jnp.imag(z)), axis=-1).reshape(x.shape).astype(dtype)

    def dense(features, name):
        return nn.Dense(features, use_bias=False, dtype=dtype, param_dtype=jnp.float32, kernel_init=init, name=name)

    class Block(nn.Module):
        @nn.compact
        def __call__(self, x, attention_mask, position_ids):
            b, s, _ = x.shape
            h = RmsNorm(name="attention_norm")(x)
            q = dense(args.hidden, "wq")(h).reshape(b, s, args.heads, head_dim)
            k = dense(args.hidden, "wk")(h).reshape(b, s, args.heads, head_dim)
            v = dense(args.hidden, "wv")(h).reshape(b, s, args.heads, head_dim)
            freqs = jnp.take(jnp.asarray(rotary_table), position_ids, axis=0)
            q, k = rotate(q, freqs), rotate(k, freqs)
            causal = nn.make_causal_mask(jnp.ones((b, s), dtype="bool"), dtype="bool")
            mask = nn.combine_masks(jnp.broadcast_to(attention_mask[:, None, None, :], causal.shape), causal)
            bias = jax.lax.select(mask > 0, jnp.zeros(mask.shape, dtype), jnp.full(mask.shape, jnp.finfo(dtype).min, dtype))
            w = dot_product_attention_weights(q, k, bias=bias, dtype=jnp.promote_types(dtype, jnp.float32), deterministic=True)
            a = jnp.einsum("...hqk,...khd->...qhd", w.astype(dtype), v).reshape(b, s, args.hidden)
            x = x + dense(args.hidden, "wo")(a)
            m = RmsNorm(name="ffn_norm")(x)
            f = dense(args.hidden, "w2")(nn.silu(dense(args.intermediate, "w1")(m)) * dense(args.intermediate, "w3")(m))
            return x + f

    block = Block
    if args.remat != "none":
        block = nn.remat(Block, policy=getattr(jax.checkpoint_policies, args.remat))

    class Llama(nn.Module):
        @nn.compact
        def __call__(self, ids):
            # No padding mask in CoH training: all ones, positions 0..S-1, as the original derives them.
            attention_mask = jnp.ones_like(ids)
            position_ids = jnp.clip(jnp.cumsum(attention_mask, axis=-1) - 1, 0)
            x = nn.Embed(args.vocab, args.hidden, embedding_init=init, dtype=dtype, param_dtype=jnp.float32, name="wte")(ids)
            for i in range(args.layers):
                x = block(name=f"h_{i}")(x, attention_mask, position_ids)
            x = RmsNorm(name="ln_f")(x)
            return dense(args.vocab, "lm_head")(x)

    model = Llama()

    def loss_and_accuracy(params, batch):
        tokens, masks = batch["tokens"], batch["loss_masks"]
        inputs = jnp.concatenate([jnp.full((tokens.shape[0], 1), args.bos, jnp.int32), tokens[:, :-1]], axis=1)
        logits = model.apply(params, inputs).astype(jnp.float32)
        valid = masks.astype(jnp.float32)
        length = jnp.maximum(jnp.sum(valid, axis=-1), 1e-10)
        lp = jnp.take_along_axis(jax.nn.log_softmax(logits, axis=-1), tokens[..., None], axis=-1)[..., 0]
        lp = jnp.where(valid > 0.0, lp, 0.0)
        loss = -jnp.mean(jnp.sum(lp, axis=-1) / length)
        correct = jnp.where(valid > 0.0, jnp.argmax(logits, axis=-1) == tokens, False)
        return loss, jnp.mean(jnp.sum(correct, axis=-1) / length)

    def global_norm(tree):
        return jnp.sqrt(sum(jnp.sum(jnp.square(x)) for x in jax.tree_util.tree_leaves(tree)))

    schedule = optax.warmup_cosine_decay_schedule(init_value=0.0, peak_value=0.01, warmup_steps=2000,
                                                  decay_steps=500000, end_value=0.001)
    optimizer = optax.chain(
        optax.clip_by_global_norm(1.0),
        optax.adamw(learning_rate=schedule, b1=0.9, b2=0.95, weight_decay=1e-4,
                    mask=lambda p: jax.tree_util.tree_map(lambda _: True, p)),
    )

    def init_state(rng):
        params = model.init(rng, jnp.zeros((args.batch, args.seq), jnp.int32))
        return TrainState.create(params=params, tx=optimizer, apply_fn=None)

    def train_step(state, hf_batch, pt_batch):
        grad_fn = jax.value_and_grad(loss_and_accuracy, has_aux=True)
        (hf_loss, hf_acc), hf_grads = grad_fn(state.params, hf_batch)
        (pt_loss, pt_acc), pt_grads = grad_fn(state.params, pt_batch)
        grads = jax.tree_util.tree_map(lambda h, p: h + p * args.pt_loss_weight, hf_grads, pt_grads)
        state = state.apply_gradients(grads=grads)
        metrics = dict(hf_loss=hf_loss, pt_loss=pt_loss, hf_accuracy=hf_acc, pt_accuracy=pt_acc,
                       gradient_norm=global_norm(grads), param_norm=global_norm(state.params))
        return state, metrics

    step = jax.jit(train_step, donate_argnums=(0,))
    if args.memory_only:
        # Shapes only, as a dry run: nothing of the model's size is allocated.
        state = jax.eval_shape(init_state, jax.random.PRNGKey(args.seed))
    else:
        state = jax.jit(init_state)(jax.random.PRNGKey(args.seed))
    rnd = np.random.default_rng(args.seed)

    def batch():
        return dict(tokens=rnd.integers(0, args.vocab, (args.batch, args.seq), dtype=np.int32),
                    loss_masks=np.ones((args.batch, args.seq), np.float32))

    hf, pt = batch(), batch()
    return step, state, hf, pt


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bootstrap", action="store_true", help="create/use the pinned venv and re-run there")
    p.add_argument("--venv", type=Path, help="the venv --bootstrap makes and uses (default: the cohx cache's refvenv, or refvenv-cuda12)")
    p.add_argument("--cuda", action="store_true", help="run on an NVIDIA GPU: JAX's CUDA 12 plugin in its own pinned venv")
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--intermediate", type=int, default=688)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    p.add_argument("--remat", default="nothing_saveable",
                   help="none, or a jax.checkpoint_policies name (nothing_saveable, dots_saveable, ...)")
    p.add_argument("--eps", type=float, default=1e-6)
    p.add_argument("--rope-theta", type=float, default=10000.0)
    p.add_argument("--bos", type=int, default=1)
    p.add_argument("--pt-loss-weight", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--dump-hlo", type=Path, help="write the optimized HLO of the step here")
    p.add_argument("--memory-only", action="store_true",
                   help="compile the step from shapes only, print its memory statistics as JSON and exit")
    args = p.parse_args()
    pinned = PINNED_CUDA if args.cuda else PINNED
    if args.bootstrap:
        bootstrap(sys.argv[1:], args.venv or default_venv(args.cuda), pinned, REQUIREMENTS_CUDA if args.cuda else REQUIREMENTS)
    check_versions(pinned)

    import jax

    device = jax.devices()[0]
    if args.cuda and device.platform != "gpu":
        print(f"jax_train_step: error: --cuda but JAX runs on {device.platform} ({device.device_kind}); "
              "check the NVIDIA driver (nvidia-smi) and the CUDA venv", file=sys.stderr)
        sys.exit(2)

    t0 = time.perf_counter()
    step, state, hf, pt = build(args)
    compiled = step.lower(state, hf, pt).compile()
    compile_s = time.perf_counter() - t0
    if args.dump_hlo:
        args.dump_hlo.write_text(compiled.as_text())
    if args.memory_only:
        m = compiled.memory_analysis()
        print(json.dumps({"arguments": m.argument_size_in_bytes, "outputs": m.output_size_in_bytes,
                          "aliased": m.alias_size_in_bytes, "temporaries": m.temp_size_in_bytes,
                          "compile_s": round(time.perf_counter() - t0, 3)}), flush=True)
        return
    n_params = sum(x.size for x in jax.tree_util.tree_leaves(state.params))
    print(json.dumps({"ready": True, "jax": jax.__version__, "device": device.device_kind, "params": int(n_params),
                      "compile_s": round(compile_s, 3)}), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] == "memory":
            m = compiled.memory_analysis()
            print(json.dumps({"arguments": m.argument_size_in_bytes, "outputs": m.output_size_in_bytes,
                              "aliased": m.alias_size_in_bytes, "temporaries": m.temp_size_in_bytes}), flush=True)
            continue
        times = []
        loss = None
        cpu0 = time.process_time()
        for _ in range(int(cmd[1])):
            s0 = time.perf_counter()
            state, metrics = step(state, hf, pt)
            loss = float(metrics["hf_loss"])  # waits for the step, as the Java side reads its loss
            times.append(time.perf_counter() - s0)
        print(json.dumps({"steps": len(times), "step_s": times, "cpu_s": time.process_time() - cpu0, "loss": loss}), flush=True)


if __name__ == "__main__":
    main()
