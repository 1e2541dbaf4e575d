package io.cohx.engine;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes StableHLO MLIR text in the generic op form, one op per line:
 * {@code %v7 = "stablehlo.add"(%v3, %v5) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>}.
 * Values are named after their node id ({@code %v7}, {@code %v9#1} for multi-result ops); an op
 * that emits nothing (stopGradient, an inlined checkpoint) aliases its results to other names.
 */
final class Emitter {
    private final StringBuilder sb;
    private final Map<Tensor, String> alias = new HashMap<>();
    private String indent = "    ";
    /** Convert bf16/f16 dot operands to the f32 result type first (the CPU runtime has no mixed-precision dot). */
    final boolean upcastLowPrecisionDots;

    Emitter(StringBuilder sb) {
        this(sb, false);
    }

    Emitter(StringBuilder sb, boolean upcastLowPrecisionDots) {
        this.sb = sb;
        this.upcastLowPrecisionDots = upcastLowPrecisionDots;
    }

    String name(Tensor t) {
        String a = alias.get(t);
        if (a != null) {
            return a;
        }
        return t.node.outs.length == 1 ? "%v" + t.node.id : "%v" + t.node.id + "#" + t.index;
    }

    /** Makes {@code t} print as {@code other}'s name (for ops that are no-ops in the program). */
    void alias(Tensor t, Tensor other) {
        alias.put(t, name(other));
    }

    void line(String s) {
        sb.append(indent).append(s).append('\n');
    }

    /** The current line indentation (for ops that write multi-line regions themselves). */
    String indentation() {
        return indent;
    }

    void indent(int delta) {
        indent = delta > 0 ? indent + "  " : indent.substring(2);
    }

    String results(Node n) {
        return n.outs.length == 1 ? "%v" + n.id : "%v" + n.id + ":" + n.outs.length;
    }

    String operands(Tensor[] ins) {
        var b = new StringBuilder();
        for (int i = 0; i < ins.length; i++) {
            b.append(i == 0 ? "" : ", ").append(name(ins[i]));
        }
        return b.toString();
    }

    static String types(Tensor[] ins) {
        var b = new StringBuilder();
        for (int i = 0; i < ins.length; i++) {
            b.append(i == 0 ? "" : ", ").append(ins[i].type().mlir());
        }
        return b.toString();
    }

    static String resultTypes(Node n) {
        if (n.types.length == 1) {
            return n.types[0].mlir();
        }
        var b = new StringBuilder("(");
        for (int i = 0; i < n.types.length; i++) {
            b.append(i == 0 ? "" : ", ").append(n.types[i].mlir());
        }
        return b.append(')').toString();
    }

    /** The usual case: {@code results = "op"(operands) {attrs} : (types) -> types}. */
    void op(Node n, String opName, String attrs) {
        line(results(n) + " = \"" + opName + "\"(" + operands(n.inputs) + ")"
                + (attrs == null || attrs.isEmpty() ? "" : " {" + attrs + "}")
                + " : (" + types(n.inputs) + ") -> " + resultTypes(n));
    }

    /** A reduction-style region whose body combines two scalars with {@code combiner}. */
    String scalarRegion(String combiner, DType dtype, int id) {
        String t = "tensor<" + dtype.mlir() + ">";
        String a = "%r" + id + "a";
        String b = "%r" + id + "b";
        String c = "%r" + id + "c";
        return "({\n" + indent + "  ^bb0(" + a + ": " + t + ", " + b + ": " + t + "):\n"
                + indent + "    " + c + " = \"" + combiner + "\"(" + a + ", " + b + ") : (" + t + ", " + t + ") -> " + t + "\n"
                + indent + "    \"stablehlo.return\"(" + c + ") : (" + t + ") -> ()\n" + indent + "  })";
    }

    /** Emits the nodes of {@code g} that {@code outputs} depend on, in order. */
    void body(Graph g, List<Tensor> outputs) {
        boolean[] live = liveNodes(g, outputs);
        for (int i = 0; i < g.nodes.size(); i++) {
            if (live[i]) {
                Node n = g.nodes.get(i);
                n.op.emit(this, n);
            }
        }
    }

    /** Emits a region: block header with {@code args}, the body, and a return of {@code outputs}. */
    void region(Graph g, List<Tensor> args, List<Tensor> outputs) {
        var h = new StringBuilder("^bb0(");
        for (int i = 0; i < args.size(); i++) {
            h.append(i == 0 ? "" : ", ").append(name(args.get(i))).append(": ").append(args.get(i).type().mlir());
        }
        line(h.append("):").toString());
        indent(1);
        body(g, outputs);
        Tensor[] outs = outputs.toArray(Tensor[]::new);
        line("\"stablehlo.return\"(" + operands(outs) + ") : (" + types(outs) + ") -> ()");
        indent(-1);
    }

    static boolean[] liveNodes(Graph g, List<Tensor> outputs) {
        Map<Node, Integer> index = new HashMap<>();
        for (int i = 0; i < g.nodes.size(); i++) {
            index.put(g.nodes.get(i), i);
        }
        boolean[] live = new boolean[g.nodes.size()];
        for (Tensor t : outputs) {
            Integer i = index.get(t.node);
            if (i != null) {
                live[i] = true;
            }
        }
        for (int i = live.length - 1; i >= 0; i--) {
            if (live[i]) {
                for (Tensor in : g.nodes.get(i).inputs) {
                    Integer j = index.get(in.node);
                    if (j != null) {
                        live[j] = true;
                    }
                }
            }
        }
        return live;
    }

    // ---- literals -----------------------------------------------------------------------------

    /** A scalar literal of {@code dtype} as MLIR wants it inside {@code dense<...>}. */
    static String literal(DType dtype, double v) {
        return switch (dtype) {
            case PRED -> v != 0 ? "true" : "false";
            case S32, S64 -> Long.toString((long) v);
            case U8, U32 -> Long.toString((long) v);
            case F64 -> Double.isFinite(v) ? Double.toString(v) : hex(Double.doubleToRawLongBits(v), 16);
            case F32 -> {
                float f = (float) v;
                yield Float.isFinite(f) ? Double.toString(f) : hex(Float.floatToRawIntBits(f) & 0xFFFFFFFFL, 8);
            }
            case BF16 -> {
                short h = HalfFloats.toBf16(v);
                float f = HalfFloats.bf16ToFloat(h);
                yield Float.isFinite(f) ? Double.toString(f) : hex(h & 0xFFFF, 4);
            }
            case F16 -> {
                short h = HalfFloats.toF16(v);
                float f = Float.float16ToFloat(h);
                yield Float.isFinite(f) ? Double.toString(f) : hex(h & 0xFFFF, 4);
            }
        };
    }

    /** A literal from raw integer bits (for u32 constants above 2^31 and s64 beyond a double's range). */
    static String literalBits(DType dtype, long bits) {
        return switch (dtype) {
            case U32 -> Long.toString(bits & 0xFFFFFFFFL);
            case U8 -> Long.toString(bits & 0xFF);
            case S32 -> Integer.toString((int) bits);
            case S64 -> Long.toString(bits);
            case PRED -> bits != 0 ? "true" : "false";
            default -> throw new IllegalArgumentException("bit literal for " + dtype);
        };
    }

    private static String hex(long bits, int digits) {
        String h = Long.toHexString(bits).toUpperCase();
        return "0x" + "0".repeat(Math.max(0, digits - h.length())) + h;
    }
}
