package io.cohx.engine;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Reverse-mode differentiation of traced functions. The function is traced on fresh aliases of
 * the inputs, then the graph is walked backwards from the result, each node's {@link Op#vjp}
 * adding the nodes of its gradient to the same graph. Values the function closes over are
 * constants to it (as in JAX). Only floating inputs have gradients.
 */
public final class Autodiff {
    private Autodiff() {}

    /** A loss with auxiliary outputs that are returned but not differentiated. */
    public record WithAux(Tensor value, Tree<Tensor> aux) {}

    /** The loss, its gradient with respect to every input path, and the auxiliary outputs. */
    public record ValueAndGrad(Tensor value, Tree<Tensor> grad, Tree<Tensor> aux) {}

    /** Gradient of the scalar {@code f(at)} with respect to every array of {@code at}. */
    public static Tree<Tensor> grad(Function<Tree<Tensor>, Tensor> f, Tree<Tensor> at) {
        return valueAndGrad(f, at).grad();
    }

    public static ValueAndGrad valueAndGrad(Function<Tree<Tensor>, Tensor> f, Tree<Tensor> at) {
        return valueAndGradWithAux(t -> new WithAux(f.apply(t), Tree.empty()), at);
    }

    public static ValueAndGrad valueAndGradWithAux(Function<Tree<Tensor>, WithAux> f, Tree<Tensor> at) {
        Graph g = Graph.current();
        List<String> paths = at.paths();
        List<Tensor> xs = new ArrayList<>();
        for (String p : paths) {
            Tensor t = at.get(p);
            if (!t.dtype().isFloating()) {
                throw EngineException.op("grad", "input '" + p + "' is " + t.type() + "; gradients exist only for floating inputs "
                        + "(pass integer data through the closure instead)");
            }
            xs.add(t);
        }
        int start = nextId(g);
        List<Tensor> alias = new ArrayList<>();
        for (Tensor x : xs) {
            alias.add(Control.identity(x));
        }
        WithAux out = f.apply(Tree.of(paths, alias));
        Tensor loss = g.resolve(out.value());
        if (loss.rank() != 0 || !loss.dtype().isFloating()) {
            throw EngineException.op("grad", "the differentiated function must return a floating scalar, got " + loss.type());
        }
        Tensor[] cts = backprop(List.of(loss), List.of(Constants.scalar(1, loss.dtype())), alias, start);
        List<Tensor> gs = new ArrayList<>();
        for (int i = 0; i < cts.length; i++) {
            gs.add(cts[i] == null ? Constants.zerosLike(alias.get(i)) : cts[i]);
        }
        return new ValueAndGrad(loss, Tree.of(paths, gs), out.aux());
    }

    /**
     * Vector-Jacobian product of {@code f} at {@code primals}: the cotangents of the inputs given
     * those of the outputs. Returns the outputs followed by the input cotangents.
     */
    public static List<Tensor> vjp(Function<List<Tensor>, List<Tensor>> f, List<Tensor> primals, List<Tensor> cotangents) {
        Graph g = Graph.current();
        int start = nextId(g);
        List<Tensor> alias = new ArrayList<>();
        for (Tensor x : primals) {
            alias.add(Control.identity(x));
        }
        List<Tensor> outs = new ArrayList<>();
        for (Tensor o : f.apply(alias)) {
            outs.add(g.resolve(o));
        }
        Tensor[] cts = backprop(outs, cotangents, alias, start);
        List<Tensor> r = new ArrayList<>(outs);
        for (int i = 0; i < cts.length; i++) {
            r.add(cts[i] == null ? Constants.zerosLike(alias.get(i)) : cts[i]);
        }
        return r;
    }

    static int nextId(Graph g) {
        // Ids grow monotonically; the next node created gets an id above every existing one.
        return g.nodes.isEmpty() ? Integer.MIN_VALUE : g.nodes.getLast().id + 1;
    }

    /**
     * Cotangents of {@code wrt} (leaves) given {@code outputs} and their cotangents, walking the
     * current graph's nodes with id ≥ {@code startId}. A {@code null} result is a zero cotangent.
     */
    static Tensor[] backprop(List<Tensor> outputs, List<Tensor> outCts, List<Tensor> wrt, int startId) {
        Graph g = Graph.current();
        Set<Node> sources = new HashSet<>();
        for (Tensor w : wrt) {
            sources.add(w.node);
        }
        int first = firstIndex(g, startId);
        int end = g.nodes.size();
        // Forward: which nodes depend on the sources through differentiable float values.
        Set<Node> active = new HashSet<>(sources);
        for (int i = first; i < end; i++) {
            Node n = g.nodes.get(i);
            if (active.contains(n) || !n.op.differentiable()) {
                continue;
            }
            boolean floatOut = false;
            for (ArrayType t : n.types) {
                floatOut |= t.dtype().isFloating();
            }
            if (!floatOut) {
                continue;
            }
            for (Tensor in : n.inputs) {
                if (active.contains(in.node) && in.dtype().isFloating()) {
                    active.add(n);
                    break;
                }
            }
        }
        Map<Tensor, Tensor> ct = new HashMap<>();
        for (int i = 0; i < outputs.size(); i++) {
            if (outCts.get(i) != null) {
                accumulate(ct, outputs.get(i), outCts.get(i));
            }
        }
        for (int i = end - 1; i >= first; i--) {
            Node n = g.nodes.get(i);
            if (!active.contains(n) || sources.contains(n)) {
                continue;
            }
            Tensor[] cts = new Tensor[n.outs.length];
            boolean any = false;
            for (int k = 0; k < cts.length; k++) {
                cts[k] = ct.remove(n.outs[k]);
                any |= cts[k] != null;
            }
            if (!any) {
                continue;
            }
            Tensor[] inCts = n.op.vjp(n, cts);
            for (int k = 0; k < n.inputs.length; k++) {
                Tensor in = n.inputs[k];
                if (inCts[k] != null && active.contains(in.node) && in.dtype().isFloating()) {
                    accumulate(ct, in, inCts[k]);
                }
            }
        }
        Tensor[] r = new Tensor[wrt.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = ct.get(wrt.get(i));
        }
        return r;
    }

    private static int firstIndex(Graph g, int startId) {
        int lo = 0;
        int hi = g.nodes.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (g.nodes.get(mid).id < startId) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static void accumulate(Map<Tensor, Tensor> ct, Tensor x, Tensor c) {
        if (!c.shape().equals(x.shape())) {
            throw new EngineException("internal: cotangent " + c.type() + " for " + x.type() + " made by " + x.node.op.name());
        }
        if (c.dtype() != x.dtype()) {
            c = Elementwise.convert(c, x.dtype());
        }
        Tensor prev = ct.get(x);
        ct.put(x, prev == null ? c : prev.add(c));
    }
}
