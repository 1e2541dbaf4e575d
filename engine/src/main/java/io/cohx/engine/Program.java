package io.cohx.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A function traced once for fixed input types: the graph, its input parameters and its
 * outputs, each a {@link Tree}. {@link #mlir} writes it as a StableHLO module whose {@code main}
 * takes the inputs in tree order and returns the outputs in tree order.
 */
public final class Program {
    /** Extra attributes per argument and result (sharding annotations plug in here). */
    public interface Annotations {
        Annotations NONE = new Annotations() {};

        /** Attribute text such as {@code mhlo.sharding = "{replicated}"}, or null. */
        default String argument(String path, ArrayType type) {
            return null;
        }

        default String result(String path, ArrayType type) {
            return null;
        }

        /** Whether dots of bf16/f16 operands with an f32 result are emitted as f32 dots (for the CPU runtime). */
        default boolean upcastLowPrecisionDots() {
            return false;
        }

        default int numPartitions() {
            return 1;
        }

        /** Module-level declarations placed before {@code main} (e.g. a Shardy {@code sdy.mesh}), or null. */
        default String moduleHeader() {
            return null;
        }
    }

    private final String name;
    private final Graph graph;
    private final Tree<Tensor> inputs;
    private final Tree<Tensor> outputs;

    private Program(String name, Graph graph, Tree<Tensor> inputs, Tree<Tensor> outputs) {
        this.name = name;
        this.graph = graph;
        this.inputs = inputs;
        this.outputs = outputs;
    }

    /** Traces {@code fn} on parameters of the given types. */
    public static Program trace(String name, Tree<ArrayType> inputTypes, Function<Tree<Tensor>, Tree<Tensor>> fn) {
        Graph g = Graph.root();
        Tree<Tensor> in = inputTypes.mapWithPath((p, t) -> g.parameter(t, p));
        Tree<Tensor> out = g.tracing(() -> fn.apply(in).map(g::resolve));
        if (out.size() == 0) {
            throw new EngineException("function " + name + " returned no outputs");
        }
        return new Program(name, g, in, out);
    }

    public String name() {
        return name;
    }

    public Graph graph() {
        return graph;
    }

    public Tree<ArrayType> inputTypes() {
        return inputs.map(Tensor::type);
    }

    public Tree<ArrayType> outputTypes() {
        return outputs.map(Tensor::type);
    }

    public String mlir() {
        return mlir(Annotations.NONE, Map.of());
    }

    /**
     * The module text. {@code aliasing} maps an argument index to the output index whose buffer
     * it donates ({@code tf.aliasing_output}).
     */
    public String mlir(Annotations ann, Map<Integer, Integer> aliasing) {
        var sb = new StringBuilder(64 * graph.nodes.size() + 256);
        String module = name.replaceAll("[^A-Za-z0-9_]", "_");
        sb.append("module @").append(module).append(" attributes {mhlo.num_partitions = ").append(ann.numPartitions())
                .append(" : i32, mhlo.num_replicas = 1 : i32} {\n");
        String header = ann.moduleHeader();
        if (header != null) {
            sb.append("  ").append(header).append('\n');
        }
        sb.append("  func.func public @main(");
        List<String> inPaths = inputs.paths();
        for (int i = 0; i < inPaths.size(); i++) {
            Tensor p = inputs.get(inPaths.get(i));
            List<String> attrs = new ArrayList<>();
            Integer alias = aliasing.get(i);
            if (alias != null) {
                attrs.add("tf.aliasing_output = " + alias + " : i32");
            }
            String extra = ann.argument(inPaths.get(i), p.type());
            if (extra != null) {
                attrs.add(extra);
            }
            sb.append(i == 0 ? "" : ", ").append("%v").append(p.node.id).append(": ").append(p.type().mlir());
            if (!attrs.isEmpty()) {
                sb.append(" {").append(String.join(", ", attrs)).append('}');
            }
        }
        sb.append(") -> (");
        List<String> outPaths = outputs.paths();
        for (int i = 0; i < outPaths.size(); i++) {
            ArrayType t = outputs.get(outPaths.get(i)).type();
            sb.append(i == 0 ? "" : ", ").append(t.mlir());
            String extra = ann.result(outPaths.get(i), t);
            if (extra != null) {
                sb.append(" {").append(extra).append('}');
            }
        }
        sb.append(") {\n");
        Emitter e = new Emitter(sb, ann.upcastLowPrecisionDots());
        List<Tensor> outs = outputs.values();
        e.body(graph, outs);
        Tensor[] o = outs.toArray(Tensor[]::new);
        sb.append("    return ").append(e.operands(o)).append(" : ").append(Emitter.types(o)).append('\n');
        sb.append("  }\n}\n");
        return sb.toString();
    }
}
