package io.cohx.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A traced program: nodes in creation order (so always topologically sorted), its parameters,
 * and, for the body of a loop or a checkpoint, values it captured from the enclosing graph.
 * Ops are recorded into the graph that is current on this thread; {@link #tracing} makes a graph
 * current for the duration of a function. Node ids are unique across a graph and all its
 * sub-graphs so that emitted SSA names never clash.
 */
public final class Graph {
    private static final ThreadLocal<Graph> CURRENT = new ThreadLocal<>();

    final Graph parent;
    private final int[] counter;
    final List<Node> nodes = new ArrayList<>();
    final List<Tensor> params = new ArrayList<>();
    /** Outer value (in the parent graph) → the parameter standing for it here, in capture order. */
    final Map<Tensor, Tensor> captures = new LinkedHashMap<>();
    /** Set while a checkpointed function is re-traced for its gradient ({@link Control#checkpoint}). */
    Replay replay;

    /** Sees every op recorded into this graph and may record a substitute node instead (null: record it as is). */
    interface Replay {
        Node substitute(Graph g, Op op, ArrayType[] types, Tensor[] inputs);
    }

    private Graph(Graph parent) {
        this.parent = parent;
        this.counter = parent == null ? new int[1] : parent.counter;
    }

    /** A new top-level graph. */
    public static Graph root() {
        return new Graph(null);
    }

    /** A graph nested in this one (a region); it may use this graph's values by capturing them. */
    Graph child() {
        return new Graph(this);
    }

    /** The graph ops are recorded into; an error when nothing is being traced. */
    public static Graph current() {
        Graph g = CURRENT.get();
        if (g == null) {
            throw new EngineException("no graph is being traced on this thread: build arrays inside a function "
                    + "passed to Jit, Program.trace or Graph.tracing (at " + CallSite.find() + ")");
        }
        return g;
    }

    static Graph currentOrNull() {
        return CURRENT.get();
    }

    /** Runs {@code body} with this graph current, restoring the previous one after. */
    public <T> T tracing(Supplier<T> body) {
        Graph prev = CURRENT.get();
        CURRENT.set(this);
        try {
            return body.get();
        } finally {
            if (prev == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(prev);
            }
        }
    }

    /** Adds a parameter (a function argument or a region's block argument). */
    public Tensor parameter(ArrayType type, String name) {
        Node n = new Node(counter[0]++, this, new Parameter(params.size(), name), new Tensor[0], new ArrayType[] {type});
        nodes.add(n);
        params.add(n.outs[0]);
        return n.outs[0];
    }

    /** Records {@code op} applied to {@code inputs}; inputs from enclosing graphs are captured. */
    Node add(Op op, ArrayType[] types, Tensor... inputs) {
        Tensor[] in = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            in[i] = resolve(inputs[i]);
        }
        if (replay != null) {
            Node r = replay.substitute(this, op, types, in);
            if (r != null) {
                return r;
            }
        }
        return append(op, types, in);
    }

    /** Records {@code op} on already-resolved inputs, bypassing {@link #replay}. */
    Node append(Op op, ArrayType[] types, Tensor[] inputs) {
        Node n = new Node(counter[0]++, this, op, inputs, types);
        nodes.add(n);
        return n;
    }

    Tensor add1(Op op, ArrayType type, Tensor... inputs) {
        return add(op, new ArrayType[] {type}, inputs).outs[0];
    }

    /** The value {@code t} as seen from this graph: itself, or a capture parameter for an outer value. */
    Tensor resolve(Tensor t) {
        Graph g = t.node.graph;
        if (g == this) {
            return t;
        }
        if (parent == null) {
            throw new EngineException("a value from another trace was used here: " + t.type() + " made by "
                    + t.node.op.name() + "; arrays cannot be kept from one traced function to another (at "
                    + CallSite.find() + ")");
        }
        Tensor outer = parent.resolve(t);
        Tensor p = captures.get(outer);
        if (p == null) {
            Node n = new Node(counter[0]++, this, new Parameter(-1, "capture"), new Tensor[0], new ArrayType[] {outer.type()});
            nodes.add(n);
            p = n.outs[0];
            captures.put(outer, p);
        }
        return p;
    }

    /** True if {@code g} is this graph or encloses it. */
    boolean within(Graph g) {
        for (Graph x = this; x != null; x = x.parent) {
            if (x == g) {
                return true;
            }
        }
        return false;
    }

    /** Block arguments of this graph as a region: explicit parameters, then captures. */
    List<Tensor> regionArgs() {
        var r = new ArrayList<>(params);
        r.addAll(captures.values());
        return r;
    }

    /** Number of nodes recorded in this graph, not counting those inside loop or checkpoint regions. */
    public int size() {
        return nodes.size();
    }

    /** A function argument or region block argument; emitted as part of the signature. */
    record Parameter(int index, String label) implements Op {
        @Override
        public String name() {
            return "parameter";
        }

        @Override
        public void emit(Emitter e, Node n) {
            // Declared in the function signature or block header, not as a line of its own.
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            return new Tensor[0];
        }
    }
}
