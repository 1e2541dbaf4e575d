package io.cohx.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Control of evaluation and differentiation: identity and stopGradient (no code emitted),
 * optimization_barrier, {@link #checkpoint} (rematerialization in the backward pass),
 * {@link #whileLoop}/{@link #forLoop} (stablehlo.while) and the differentiable {@link #scan}.
 */
public final class Control {
    private Control() {}

    /** The same value under a new node (used to give a function fresh inputs to differentiate). */
    static Tensor identity(Tensor x) {
        return Graph.current().add1(new IdentityOp(true), x.type(), x);
    }

    /** {@code x}, with no gradient flowing back through it. */
    public static Tensor stopGradient(Tensor x) {
        return Graph.current().add1(new IdentityOp(false), x.type(), x);
    }

    record IdentityOp(boolean passesGradient) implements Op {
        @Override
        public String name() {
            return passesGradient ? "identity" : "stop_gradient";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.alias(n.outs[0], n.in(0));
        }

        @Override
        public boolean differentiable() {
            return passesGradient;
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            return new Tensor[] {cts[0]};
        }
    }

    /** Values XLA may not look through (so recomputed values are not merged with the originals). */
    public static List<Tensor> optimizationBarrier(List<Tensor> xs) {
        ArrayType[] types = xs.stream().map(Tensor::type).toArray(ArrayType[]::new);
        Node n = Graph.current().add(new BarrierOp(), types, xs.toArray(Tensor[]::new));
        return Arrays.asList(n.outs);
    }

    record BarrierOp() implements Op {
        @Override
        public String name() {
            return "optimization_barrier";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.optimization_barrier", null);
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            return cts.clone();
        }
    }

    // ---- checkpoint -------------------------------------------------------------------------------

    /**
     * {@code f(inputs)}, but its intermediate values are not kept for the backward pass: the
     * gradient re-runs {@code f}'s forward (behind an optimization barrier) when it needs them.
     */
    public static List<Tensor> checkpoint(Function<List<Tensor>, List<Tensor>> f, List<Tensor> inputs) {
        return checkpoint(f, inputs, RematPolicy.NOTHING_SAVEABLE);
    }

    /**
     * {@code f(inputs)} rematerialised under {@code policy}: the values the policy saves (e.g. the
     * matrix products) are kept from the forward pass, the rest is recomputed in the backward pass.
     * {@link RematPolicy#EVERYTHING_SAVEABLE} is a plain call.
     */
    public static List<Tensor> checkpoint(Function<List<Tensor>, List<Tensor>> f, List<Tensor> inputs, RematPolicy policy) {
        if (!policy.remats()) {
            return f.apply(inputs);
        }
        Graph g = Graph.current();
        Graph sub = g.child();
        List<Tensor> params = new ArrayList<>();
        for (Tensor x : inputs) {
            params.add(sub.parameter(x.type(), "checkpoint"));
        }
        List<Tensor> outs = sub.tracing(() -> {
            List<Tensor> r = new ArrayList<>();
            for (Tensor o : f.apply(params)) {
                r.add(sub.resolve(o));
            }
            return r;
        });
        // The ops f records, in order (region parameters aside), and which of them the policy keeps.
        List<String> trace = new ArrayList<>();
        List<Integer> savedAt = new ArrayList<>();
        List<Tensor> kept = new ArrayList<>(outs);
        for (Node x : sub.nodes) {
            if (x.op instanceof Graph.Parameter) {
                continue;
            }
            if (policy.saves(x) && x.outs.length == 1 && x.outs[0].dtype().isFloating()) {
                savedAt.add(trace.size());
                kept.add(x.outs[0]);
            }
            trace.add(signature(x.op, x.types));
        }
        List<Tensor> operands = new ArrayList<>(inputs);
        operands.addAll(sub.captures.keySet());
        ArrayType[] types = kept.stream().map(Tensor::type).toArray(ArrayType[]::new);
        Node n = g.add(new CheckpointOp(f, sub, kept, inputs.size(), outs.size(), List.copyOf(trace), List.copyOf(savedAt)), types,
                operands.toArray(Tensor[]::new));
        return Arrays.asList(n.outs).subList(0, outs.size());
    }

    /** {@link #checkpoint} for a function of a parameter tree. */
    public static Tree<Tensor> checkpoint(Function<Tree<Tensor>, Tree<Tensor>> f, Tree<Tensor> inputs) {
        return checkpoint(f, inputs, RematPolicy.NOTHING_SAVEABLE);
    }

    /** {@link #checkpoint(Function, List, RematPolicy)} for a function of a parameter tree. */
    public static Tree<Tensor> checkpoint(Function<Tree<Tensor>, Tree<Tensor>> f, Tree<Tensor> inputs, RematPolicy policy) {
        List<String> inPaths = inputs.paths();
        var outPaths = new java.util.concurrent.atomic.AtomicReference<List<String>>();
        List<Tensor> r = checkpoint(xs -> {
            Tree<Tensor> o = f.apply(Tree.of(inPaths, xs));
            outPaths.set(o.paths());
            return o.values();
        }, inputs.values(), policy);
        return Tree.of(outPaths.get(), r);
    }

    private static String signature(Op op, ArrayType[] types) {
        return op.name() + Arrays.toString(types);
    }

    /**
     * The checkpointed call: its outputs are f's ({@code results} of them) followed by the values
     * the policy keeps. Its gradient re-traces f on the barrier'd inputs; while it does, the
     * {@code saved}-th ops f records (counted as in the forward trace) become {@link SavedOp}s
     * that take the kept forward value instead of computing it again.
     */
    record CheckpointOp(Function<List<Tensor>, List<Tensor>> f, Graph sub, List<Tensor> outs, int explicit, int results,
                        List<String> trace, List<Integer> saved) implements Op {
        @Override
        public String name() {
            return "checkpoint";
        }

        @Override
        public void emit(Emitter e, Node n) {
            List<Tensor> args = sub.regionArgs();
            for (int i = 0; i < args.size(); i++) {
                e.alias(args.get(i), n.in(i));
            }
            e.body(sub, outs);
            for (int k = 0; k < outs.size(); k++) {
                e.alias(n.outs[k], outs.get(k));
            }
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            Graph g = Graph.current();
            List<Tensor> explicitIn = Arrays.asList(n.inputs).subList(0, explicit);
            List<Tensor> captured = Arrays.asList(n.inputs).subList(explicit, n.inputs.length);
            int start = Autodiff.nextId(g);
            List<Tensor> fresh = optimizationBarrier(explicitIn);
            List<Tensor> re = new ArrayList<>();
            Graph.Replay outer = g.replay;
            g.replay = new Replay(n);
            try {
                for (Tensor o : f.apply(fresh)) {
                    re.add(g.resolve(o));
                }
            } finally {
                g.replay = outer;
            }
            List<Tensor> wrt = new ArrayList<>(fresh);
            wrt.addAll(captured);
            return Autodiff.backprop(re, Arrays.asList(cts).subList(0, results), wrt, start);
        }

        /** Counts the ops of the re-trace and substitutes the saved ones. */
        private final class Replay implements Graph.Replay {
            private final Node n;
            private int next;

            Replay(Node n) {
                this.n = n;
            }

            @Override
            public Node substitute(Graph g, Op op, ArrayType[] types, Tensor[] inputs) {
                int at = next++;
                if (at >= trace.size() || !trace.get(at).equals(signature(op, types))) {
                    throw new EngineException("internal: re-tracing a checkpointed function for its gradient recorded "
                            + signature(op, types) + " as op " + at + " where the forward trace had "
                            + (at < trace.size() ? trace.get(at) : "no more ops") + "; the function must trace the same ops each time");
                }
                int k = saved.indexOf(at);
                if (k < 0) {
                    return null;
                }
                Tensor[] in = Arrays.copyOf(inputs, inputs.length + 1);
                in[inputs.length] = g.resolve(n.outs[results + k]);
                return g.append(new SavedOp(op), types, in);
            }
        }
    }

    /**
     * A value a checkpoint kept from its forward pass, standing in for {@code op} on the
     * recomputed inputs (its last input is the kept value): emitted as that value, differentiated
     * as {@code op} of the other inputs would be.
     */
    record SavedOp(Op op) implements Op {
        @Override
        public String name() {
            return op.name() + " (saved)";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.alias(n.outs[0], n.in(n.inputs.length - 1));
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            Node original = new Node(n.id, n.graph, op, Arrays.copyOf(n.inputs, n.inputs.length - 1), n.types);
            System.arraycopy(n.outs, 0, original.outs, 0, n.outs.length);
            return Arrays.copyOf(op.vjp(original, cts), n.inputs.length);
        }
    }

    // ---- while --------------------------------------------------------------------------------------

    /**
     * {@code while (cond(state)) state = body(state)} as one stablehlo.while. Values the
     * functions close over are carried through the loop unchanged. Not differentiable; use
     * {@link #scan} for loops inside a gradient.
     */
    public static List<Tensor> whileLoop(List<Tensor> init, Function<List<Tensor>, Tensor> cond,
                                         Function<List<Tensor>, List<Tensor>> body) {
        Graph g = Graph.current();
        Graph cg = g.child();
        Graph bg = g.child();
        List<Tensor> cp = new ArrayList<>();
        List<Tensor> bp = new ArrayList<>();
        for (Tensor x : init) {
            cp.add(cg.parameter(x.type(), "state"));
            bp.add(bg.parameter(x.type(), "state"));
        }
        Tensor c = cg.tracing(() -> cg.resolve(cond.apply(cp)));
        if (c.rank() != 0 || c.dtype() != DType.PRED) {
            throw EngineException.op("while", "the condition must return a pred scalar, got " + c.type());
        }
        List<Tensor> b = bg.tracing(() -> {
            List<Tensor> r = new ArrayList<>();
            for (Tensor o : body.apply(bp)) {
                r.add(bg.resolve(o));
            }
            return r;
        });
        if (b.size() != init.size()) {
            throw EngineException.op("while", "the body returned " + b.size() + " values for a state of " + init.size());
        }
        for (int i = 0; i < b.size(); i++) {
            if (!b.get(i).type().equals(init.get(i).type())) {
                throw EngineException.op("while", "state " + i + " enters the loop as " + init.get(i).type()
                        + " but the body returns " + b.get(i).type());
            }
        }
        Node n = buildWhile(g, init, cg, c, bg, b, w -> w);
        return Arrays.asList(n.outs).subList(0, init.size());
    }

    /** Makes both regions carry every captured value, then records the while node. */
    static Node buildWhile(Graph g, List<Tensor> init, Graph cg, Tensor c, Graph bg, List<Tensor> b,
                           Function<WhileOp, Op> wrap) {
        var captured = new LinkedHashSet<Tensor>();
        captured.addAll(cg.captures.keySet());
        captured.addAll(bg.captures.keySet());
        List<Tensor> condArgs = new ArrayList<>(cg.params);
        List<Tensor> bodyArgs = new ArrayList<>(bg.params);
        List<Tensor> bodyOut = new ArrayList<>(b);
        for (Tensor outer : captured) {
            condArgs.add(cg.resolve(outer));
            Tensor inner = bg.resolve(outer);
            bodyArgs.add(inner);
            bodyOut.add(inner);
        }
        List<Tensor> operands = new ArrayList<>(init);
        operands.addAll(captured);
        ArrayType[] types = operands.stream().map(Tensor::type).toArray(ArrayType[]::new);
        return g.add(wrap.apply(new WhileOp(cg, condArgs, c, bg, bodyArgs, bodyOut)), types, operands.toArray(Tensor[]::new));
    }

    record WhileOp(Graph cond, List<Tensor> condArgs, Tensor condOut, Graph body, List<Tensor> bodyArgs,
                   List<Tensor> bodyOut) implements Op {
        @Override
        public String name() {
            return "while";
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            throw new EngineException("while: a general while loop has no gradient; write the loop with Control.scan "
                    + "(fixed trip count) or keep its inputs out of the differentiated function with stopGradient");
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.line(e.results(n) + " = \"stablehlo.while\"(" + e.operands(n.inputs) + ") ({");
            e.indent(1);
            e.region(cond, condArgs, List.of(condOut));
            e.indent(-1);
            e.line("}, {");
            e.indent(1);
            e.region(body, bodyArgs, bodyOut);
            e.indent(-1);
            e.line("}) : (" + Emitter.types(n.inputs) + ") -> " + Emitter.resultTypes(n));
        }
    }

    /** {@code for (i = 0; i < n; i++) state = body(i, state)} with i an s32 scalar. */
    public static List<Tensor> forLoop(int n, List<Tensor> init, BiFunction<Tensor, List<Tensor>, List<Tensor>> body) {
        List<Tensor> state = new ArrayList<>();
        state.add(Constants.scalar(0, DType.S32));
        state.addAll(init);
        List<Tensor> r = whileLoop(state,
                s -> s.getFirst().lt(Constants.scalar(n, DType.S32)),
                s -> {
                    List<Tensor> next = new ArrayList<>();
                    next.add(s.getFirst().add(Constants.scalar(1, DType.S32)));
                    next.addAll(body.apply(s.getFirst(), s.subList(1, s.size())));
                    return next;
                });
        return r.subList(1, r.size());
    }

    // ---- scan ---------------------------------------------------------------------------------------

    /** Body of a scan: (carry, slices of xs at step i) → (new carry, outputs of step i). */
    public interface ScanBody {
        Step apply(List<Tensor> carry, List<Tensor> x);
    }

    public record Step(List<Tensor> carry, List<Tensor> y) {}

    /** Final carry, and the per-step outputs stacked on a new leading axis. */
    public record ScanResult(List<Tensor> carry, List<Tensor> ys) {}

    /**
     * Runs {@code body} over the leading axis of every {@code xs} array (all of length
     * {@code length}) as one stablehlo.while. Differentiable: the backward pass is a reverse
     * loop that recomputes each step's forward from the carry saved at that step.
     */
    public static ScanResult scan(ScanBody body, List<Tensor> init, List<Tensor> xs, int length) {
        return Scan.build(body, init, xs, length);
    }
}
