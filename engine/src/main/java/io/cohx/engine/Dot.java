package io.cohx.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Contractions: {@code dot_general} with batch and contracting dimensions and an optional
 * accumulation (result) dtype, plus {@link #matmul} and a small {@link #einsum}.
 */
public final class Dot {
    private Dot() {}

    /** Which dims are batch and which are contracted, on each side. */
    public record Dims(int[] lhsBatch, int[] rhsBatch, int[] lhsContract, int[] rhsContract) {
        public static Dims of(int[] lhsContract, int[] rhsContract) {
            return new Dims(new int[0], new int[0], lhsContract, rhsContract);
        }

        @Override
        public String toString() {
            return "batch " + Arrays.toString(lhsBatch) + "x" + Arrays.toString(rhsBatch) + ", contracting "
                    + Arrays.toString(lhsContract) + "x" + Arrays.toString(rhsContract);
        }
    }

    /**
     * Result dims are batch, lhs free, rhs free. {@code resultType} (may be null: the operands')
     * is the accumulation dtype, e.g. f32 for bf16 operands.
     */
    public static Tensor dotGeneral(Tensor lhs, Tensor rhs, Dims d, DType resultType) {
        Elementwise.sameDtype("dot_general", lhs, rhs);
        if (d.lhsBatch.length != d.rhsBatch.length || d.lhsContract.length != d.rhsContract.length) {
            throw EngineException.op("dot_general", "batch/contracting dim lists differ in length: " + d + " for "
                    + lhs.type() + " · " + rhs.type());
        }
        List<Integer> dims = new ArrayList<>();
        for (int i = 0; i < d.lhsBatch.length; i++) {
            int a = lhs.shape().dim(d.lhsBatch[i]);
            int b = rhs.shape().dim(d.rhsBatch[i]);
            if (a != b) {
                throw EngineException.op("dot_general", "batch dim sizes differ: lhs " + lhs.type() + " dim " + d.lhsBatch[i]
                        + " = " + a + ", rhs " + rhs.type() + " dim " + d.rhsBatch[i] + " = " + b);
            }
            dims.add(a);
        }
        for (int i = 0; i < d.lhsContract.length; i++) {
            int a = lhs.shape().dim(d.lhsContract[i]);
            int b = rhs.shape().dim(d.rhsContract[i]);
            if (a != b) {
                throw EngineException.op("dot_general", "contracting dim sizes differ: lhs " + lhs.type() + " dim "
                        + d.lhsContract[i] + " = " + a + ", rhs " + rhs.type() + " dim " + d.rhsContract[i] + " = " + b);
            }
        }
        for (int i : free(lhs.rank(), d.lhsBatch, d.lhsContract)) {
            dims.add(lhs.shape().dim(i));
        }
        for (int i : free(rhs.rank(), d.rhsBatch, d.rhsContract)) {
            dims.add(rhs.shape().dim(i));
        }
        DType out = resultType == null ? lhs.dtype() : resultType;
        Shape s = Shape.of(dims.stream().mapToInt(Integer::intValue).toArray());
        return Graph.current().add1(new DotGeneralOp(d), new ArrayType(out, s), lhs, rhs);
    }

    static int[] free(int rank, int[] batch, int[] contract) {
        boolean[] used = new boolean[rank];
        for (int i : batch) {
            used[i] = true;
        }
        for (int i : contract) {
            used[i] = true;
        }
        int[] r = new int[rank - batch.length - contract.length];
        int k = 0;
        for (int i = 0; i < rank; i++) {
            if (!used[i]) {
                r[k++] = i;
            }
        }
        return r;
    }

    private static int[] range(int from, int to) {
        int[] r = new int[to - from];
        for (int i = 0; i < r.length; i++) {
            r[i] = from + i;
        }
        return r;
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }

    record DotGeneralOp(Dims d) implements Op {
        @Override
        public String name() {
            return "dot_general";
        }

        @Override
        public void emit(Emitter e, Node n) {
            var sb = new StringBuilder("dot_dimension_numbers = #stablehlo.dot<");
            var parts = new ArrayList<String>();
            if (d.lhsBatch.length > 0) {
                parts.add("lhs_batching_dimensions = " + Arrays.toString(d.lhsBatch));
                parts.add("rhs_batching_dimensions = " + Arrays.toString(d.rhsBatch));
            }
            if (d.lhsContract.length > 0) {
                parts.add("lhs_contracting_dimensions = " + Arrays.toString(d.lhsContract));
                parts.add("rhs_contracting_dimensions = " + Arrays.toString(d.rhsContract));
            }
            sb.append(String.join(", ", parts)).append('>');
            DType in = n.in(0).dtype();
            DType out = n.types[0].dtype();
            if (e.upcastLowPrecisionDots && (in == DType.BF16 || in == DType.F16) && out != in) {
                // The XLA CPU runtime rejects e.g. "BF16 x BF16 = F32" dots; an f32 dot of the widened
                // operands computes the same values (bf16 and f16 are exact in f32).
                String[] names = new String[2];
                String[] types = new String[2];
                for (int i = 0; i < 2; i++) {
                    Tensor x = n.in(i);
                    ArrayType wide = new ArrayType(out, x.shape());
                    names[i] = "%u" + n.id + (i == 0 ? "a" : "b");
                    types[i] = wide.mlir();
                    e.line(names[i] + " = \"stablehlo.convert\"(" + e.name(x) + ") : (" + x.type().mlir() + ") -> " + types[i]);
                }
                e.line(e.results(n) + " = \"stablehlo.dot_general\"(" + names[0] + ", " + names[1] + ") {" + sb + "} : ("
                        + types[0] + ", " + types[1] + ") -> " + Emitter.resultTypes(n));
                return;
            }
            e.op(n, "stablehlo.dot_general", sb.toString());
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            Tensor lhs = n.in(0);
            Tensor rhs = n.in(1);
            Tensor g = cts[0];
            return new Tensor[] {transposeSide(g, rhs, lhs, d.lhsBatch, d.lhsContract, d.rhsBatch, d.rhsContract, true),
                    transposeSide(g, lhs, rhs, d.rhsBatch, d.rhsContract, d.lhsBatch, d.lhsContract, false)};
        }

        /**
         * Cotangent of operand "me" given g and the other operand: contract g's free dims of the
         * other side with the other's free dims, batch over the batch dims, then permute into
         * me's layout.
         */
        private Tensor transposeSide(Tensor g, Tensor other, Tensor me, int[] meBatch, int[] meContract,
                                     int[] otherBatch, int[] otherContract, boolean meIsLhs) {
            int nb = meBatch.length;
            int[] meFree = free(me.rank(), meBatch, meContract);
            int[] otherFree = free(other.rank(), otherBatch, otherContract);
            // In g, dims are batch, lhs free, rhs free.
            int[] gOtherFree = meIsLhs ? range(nb + meFree.length, g.rank()) : range(nb, nb + otherFree.length);
            Tensor gg = Elementwise.convert(g, other.dtype());
            Tensor r = dotGeneral(gg, other, new Dims(range(0, nb), otherBatch, gOtherFree, otherFree), g.dtype());
            // r dims: batch, g's remaining (me free), other's remaining (other contracting, ascending).
            int[] otherRest = free(other.rank(), otherBatch, otherFree);
            int[] rToMe = new int[me.rank()];
            int k = 0;
            for (int i = 0; i < nb; i++) {
                rToMe[k++] = meBatch[i];
            }
            for (int f : meFree) {
                rToMe[k++] = f;
            }
            for (int o : otherRest) {
                rToMe[k++] = meContract[indexOf(otherContract, o)];
            }
            int[] perm = new int[me.rank()];
            for (int j = 0; j < rToMe.length; j++) {
                perm[rToMe[j]] = j;
            }
            return Elementwise.convert(Shapes.transpose(r, perm), me.dtype());
        }
    }

    /**
     * Matrix product over the last axis of {@code a} and the second-to-last of {@code b}
     * (or the only axis of a 1-d {@code b}); leading axes of {@code a} are kept when {@code b} is
     * 2-d, and must match exactly when both have the same rank above 2 (batch).
     */
    public static Tensor matmul(Tensor a, Tensor b) {
        return matmul(a, b, null);
    }

    public static Tensor matmul(Tensor a, Tensor b, DType accumulate) {
        if (a.rank() < 1 || b.rank() < 1) {
            throw EngineException.op("matmul", "needs arrays of rank ≥ 1, got " + a.type() + " and " + b.type());
        }
        if (b.rank() <= 2) {
            return dotGeneral(a, b, Dims.of(new int[] {a.rank() - 1}, new int[] {0}), accumulate);
        }
        if (a.rank() != b.rank()) {
            throw EngineException.op("matmul", "batched matmul needs equal ranks, got " + a.type() + " and " + b.type());
        }
        int nb = a.rank() - 2;
        int[] batch = range(0, nb);
        return dotGeneral(a, b, new Dims(batch, batch, new int[] {a.rank() - 1}, new int[] {b.rank() - 2}), accumulate);
    }

    /**
     * Two-operand einsum such as {@code "bsh,hd->bsd"} or {@code "bqhd,bkhd->bhqk"}: letters in
     * both inputs and the output are batch, in both inputs only are contracted, and letters in one
     * input only are summed first. No ellipsis; each letter appears at most once per operand.
     */
    /**
     * {@code Σ a·b} over every element of two arrays of one shape, as a single contraction, so no
     * elementwise product of their size is materialized (XLA's CPU backend does not fuse a
     * reduction into its producer: {@code (a*b).sum()} writes the whole product first).
     */
    public static Tensor vdot(Tensor a, Tensor b, DType accumulate) {
        if (!a.shape().equals(b.shape())) {
            throw EngineException.op("vdot", "needs arrays of one shape, got " + a.type() + " and " + b.type());
        }
        int[] all = range(0, a.rank());
        return dotGeneral(a, b, Dims.of(all, all), accumulate);
    }

    public static Tensor einsum(String spec, Tensor a, Tensor b) {
        return einsum(spec, a, b, null);
    }

    public static Tensor einsum(String spec, Tensor a, Tensor b, DType accumulate) {
        String[] io = spec.replace(" ", "").split("->");
        String[] ins = io.length == 2 ? io[0].split(",") : new String[0];
        if (ins.length != 2 || ins[0].length() != a.rank() || ins[1].length() != b.rank()) {
            throw EngineException.op("einsum", "spec '" + spec + "' does not match operands " + a.type() + " and " + b.type());
        }
        String la = ins[0];
        String lb = ins[1];
        String out = io[1];
        Tensor x = sumLettersOnlyIn(la, lb, out, a);
        la = keep(la, lb, out);
        Tensor y = sumLettersOnlyIn(lb, la, out, b);
        lb = keep(lb, la, out);
        List<Integer> ab = new ArrayList<>();
        List<Integer> bb = new ArrayList<>();
        List<Integer> ac = new ArrayList<>();
        List<Integer> bc = new ArrayList<>();
        for (int i = 0; i < la.length(); i++) {
            char c = la.charAt(i);
            int j = lb.indexOf(c);
            if (j >= 0 && out.indexOf(c) >= 0) {
                ab.add(i);
                bb.add(j);
            } else if (j >= 0) {
                ac.add(i);
                bc.add(j);
            }
        }
        Dims d = new Dims(ints(ab), ints(bb), ints(ac), ints(bc));
        Tensor r = dotGeneral(x, y, d, accumulate);
        var resultLetters = new StringBuilder();
        for (int i : ab) {
            resultLetters.append(la.charAt(i));
        }
        for (int i : free(la.length(), d.lhsBatch, d.lhsContract)) {
            resultLetters.append(la.charAt(i));
        }
        for (int i : free(lb.length(), d.rhsBatch, d.rhsContract)) {
            resultLetters.append(lb.charAt(i));
        }
        if (resultLetters.length() != out.length()) {
            throw EngineException.op("einsum", "output '" + out + "' of spec '" + spec + "' is not made of the inputs' letters");
        }
        int[] perm = new int[out.length()];
        for (int i = 0; i < out.length(); i++) {
            perm[i] = resultLetters.indexOf(String.valueOf(out.charAt(i)));
            if (perm[i] < 0) {
                throw EngineException.op("einsum", "output letter '" + out.charAt(i) + "' of '" + spec + "' is in no input");
            }
        }
        return Shapes.transpose(r, perm);
    }

    private static Tensor sumLettersOnlyIn(String mine, String other, String out, Tensor t) {
        List<Integer> axes = new ArrayList<>();
        Map<Character, Integer> seen = new HashMap<>();
        for (int i = 0; i < mine.length(); i++) {
            char c = mine.charAt(i);
            if (seen.put(c, i) != null) {
                throw EngineException.op("einsum", "letter '" + c + "' repeats within operand '" + mine + "'");
            }
            if (other.indexOf(c) < 0 && out.indexOf(c) < 0) {
                axes.add(i);
            }
        }
        return axes.isEmpty() ? t : Reductions.sum(t, ints(axes));
    }

    private static String keep(String mine, String other, String out) {
        var sb = new StringBuilder();
        for (char c : mine.toCharArray()) {
            if (other.indexOf(c) >= 0 || out.indexOf(c) >= 0) {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static int[] ints(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }
}
