package io.cohx.engine;

import io.cohx.pjrt.PjrtClient;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Checks engine gradients against central finite differences in f64 on the CPU plugin. Many
 * cases go into one compiled program (each case's loss is {@code sum(f(x) * w)} with fixed
 * weights w, all losses stacked into one output), so a whole draw of ops costs one compile; the
 * finite differences re-run the same executable with one element moved at a time.
 */
final class GradCheck {
    private GradCheck() {}

    /** One differentiable function of some inputs; integer inputs are data, not differentiated. */
    record Case(String name, Tree<NdArray> inputs, Function<Tree<Tensor>, Tensor> f) {}

    static final double TOLERANCE = 1e-6;

    /** Returns the worst relative error seen; fails listing every case above the tolerance. */
    static double check(List<Case> cases) {
        Tree<NdArray> all = Tree.empty();
        for (int k = 0; k < cases.size(); k++) {
            all = all.nest("c" + k, cases.get(k).inputs());
        }
        final Tree<NdArray> inputs = all;
        Function<Tree<Tensor>, Tree<Tensor>> program = in -> {
            List<String> floatPaths = in.paths().stream().filter(p -> in.get(p).dtype().isFloating()).toList();
            Tree<Tensor> params = Tree.of(floatPaths, floatPaths.stream().map(in::get).toList());
            Tensor[] losses = new Tensor[cases.size()];
            var vg = Autodiff.valueAndGradWithAux(p -> {
                Tensor total = Constants.scalar(0, DType.F64);
                for (int k = 0; k < cases.size(); k++) {
                    String pre = "c" + k;
                    Tree<Tensor> caseIn = in.subtree(pre).mapWithPath((path, t) ->
                            p.has(pre + "." + path) ? p.get(pre + "." + path) : t);
                    Tensor out = cases.get(k).f().apply(caseIn);
                    losses[k] = out.mul(weights(out.shape(), k)).sum();
                    total = total.add(losses[k]);
                }
                return new Autodiff.WithAux(total, Tree.empty());
            }, params);
            return Tree.of("losses", Shapes.stack(0, losses)).nest("grad", vg.grad());
        };
        PjrtClient client = Run.client();
        double worst = 0;
        List<String> failures = new ArrayList<>();
        try (Jit jit = Jit.builder("gradcheck", program).build(client)) {
            Tree<DeviceArray> dev = inputs.map(a -> DeviceArray.put(client, a));
            Tree<DeviceArray> out = jit.call(dev);
            Tree<NdArray> base = out.map(DeviceArray::toHost);
            out.values().forEach(DeviceArray::close);
            for (int k = 0; k < cases.size(); k++) {
                Case c = cases.get(k);
                for (String path : c.inputs().paths()) {
                    NdArray x = c.inputs().get(path);
                    if (!x.dtype().isFloating()) {
                        continue;
                    }
                    String full = "c" + k + "." + path;
                    double[] g = base.get("grad." + full).toDoubleArray();
                    double[] fd = new double[g.length];
                    for (int i = 0; i < g.length; i++) {
                        double xi = x.get(i);
                        double eps = 1e-5 * Math.max(1, Math.abs(xi));
                        fd[i] = (lossAt(jit, client, dev, full, x, i, xi + eps, k) - lossAt(jit, client, dev, full, x, i, xi - eps, k)) / (2 * eps);
                    }
                    double err = relErr(g, fd);
                    worst = Math.max(worst, err);
                    if (err > TOLERANCE) {
                        failures.add(c.name() + " d/d" + path + " " + x.type() + ": rel err " + err + "\n   engine " + java.util.Arrays.toString(g)
                                + "\n   finite " + java.util.Arrays.toString(fd));
                    }
                }
            }
            dev.values().forEach(DeviceArray::close);
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " gradient(s) disagree with finite differences:\n" + String.join("\n", failures));
        }
        return worst;
    }

    private static double lossAt(Jit jit, PjrtClient client, Tree<DeviceArray> dev, String path, NdArray x, int i, double v, int k) {
        NdArray moved = x.convert(x.dtype());
        moved.set(i, v);
        try (DeviceArray d = DeviceArray.put(client, moved)) {
            Tree<DeviceArray> out = jit.call(dev.with(path, d));
            double loss = out.get("losses").toHost().get(k);
            out.values().forEach(DeviceArray::close);
            return loss;
        }
    }

    static double relErr(double[] a, double[] b) {
        double diff = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            diff += (a[i] - b[i]) * (a[i] - b[i]);
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        double scale = Math.max(Math.sqrt(Math.max(na, nb)), 1e-3);
        return Math.sqrt(diff) / scale;
    }

    /** Fixed non-uniform weights that make the loss depend on every output element differently. */
    static Tensor weights(Shape s, int k) {
        Tensor i = Shapes.iota(DType.F64, Shape.of((int) s.size()), 0);
        return i.mul(0.7).add(0.3 * k + 0.1).cos().add(0.2).reshape(s.dims());
    }

    // ---- random inputs ----------------------------------------------------------------------------

    static int[] randomShape(Random r, int maxRank) {
        int rank = r.nextInt(maxRank + 1);
        int[] d = new int[rank];
        for (int i = 0; i < rank; i++) {
            d[i] = 1 + r.nextInt(4);
        }
        return d;
    }

    static NdArray uniform(Random r, double lo, double hi, int... dims) {
        NdArray a = NdArray.zeros(DType.F64, dims);
        for (long i = 0; i < a.size(); i++) {
            a.set(i, lo + (hi - lo) * r.nextDouble());
        }
        return a;
    }

    /** Magnitudes in [lo, hi] with random signs (away from zero, for kinks at 0). */
    static NdArray awayFromZero(Random r, double lo, double hi, int... dims) {
        NdArray a = uniform(r, lo, hi, dims);
        for (long i = 0; i < a.size(); i++) {
            if (r.nextBoolean()) {
                a.set(i, -a.get(i));
            }
        }
        return a;
    }

    static NdArray ints(Random r, int lo, int hi, int... dims) {
        NdArray a = NdArray.zeros(DType.S32, dims);
        for (long i = 0; i < a.size(); i++) {
            a.set(i, lo + r.nextInt(hi - lo));
        }
        return a;
    }
}
