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
        List<Tensor> operands = new ArrayList<>(inputs);
        operands.addAll(sub.captures.keySet());
        ArrayType[] types = outs.stream().map(Tensor::type).toArray(ArrayType[]::new);
        Node n = g.add(new CheckpointOp(f, sub, outs, inputs.size()), types, operands.toArray(Tensor[]::new));
        return Arrays.asList(n.outs);
    }

    /** {@link #checkpoint} for a function of a parameter tree. */
    public static Tree<Tensor> checkpoint(Function<Tree<Tensor>, Tree<Tensor>> f, Tree<Tensor> inputs) {
        List<String> inPaths = inputs.paths();
        var outPaths = new java.util.concurrent.atomic.AtomicReference<List<String>>();
        List<Tensor> r = checkpoint(xs -> {
            Tree<Tensor> o = f.apply(Tree.of(inPaths, xs));
            outPaths.set(o.paths());
            return o.values();
        }, inputs.values());
        return Tree.of(outPaths.get(), r);
    }

    record CheckpointOp(Function<List<Tensor>, List<Tensor>> f, Graph sub, List<Tensor> outs, int explicit) implements Op {
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
            for (Tensor o : f.apply(fresh)) {
                re.add(g.resolve(o));
            }
            List<Tensor> wrt = new ArrayList<>(fresh);
            wrt.addAll(captured);
            Tensor[] r = Autodiff.backprop(re, Arrays.asList(cts), wrt, start);
            return r;
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
