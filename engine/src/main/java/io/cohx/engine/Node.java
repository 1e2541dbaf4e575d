package io.cohx.engine;

/** One op applied to its inputs inside a {@link Graph}; owns one or more output values. */
final class Node {
    final int id;
    final Graph graph;
    final Op op;
    final Tensor[] inputs;
    final ArrayType[] types;
    final Tensor[] outs;

    Node(int id, Graph graph, Op op, Tensor[] inputs, ArrayType[] types) {
        this.id = id;
        this.graph = graph;
        this.op = op;
        this.inputs = inputs;
        this.types = types;
        this.outs = new Tensor[types.length];
        for (int i = 0; i < types.length; i++) {
            outs[i] = new Tensor(this, i);
        }
    }

    Tensor in(int i) {
        return inputs[i];
    }

    @Override
    public String toString() {
        return op.name() + "#" + id;
    }
}
