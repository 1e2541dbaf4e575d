package io.cohx.engine.optim;

import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The compiled AdamW update against a direct double-precision implementation of the same rule. */
class AdamWTest {

    @Test
    void matchesAReferenceOverSeveralStepsWithClippingAndMaskedDecay() {
        var r = new Random(3);
        int n = 6;
        double[] w = new double[n], b = new double[2];
        for (int i = 0; i < n; i++) {
            w[i] = r.nextGaussian();
        }
        b[0] = 0.5;
        b[1] = -0.25;
        AdamW opt = new AdamW(0.9, 0.95, 1e-8, 0.1, 1.0, false, path -> !path.endsWith("bias"));
        Tree<NdArray> params = Tree.of("layer.kernel", NdArray.of(w, 2, 3).convert(DType.F32), "layer.bias", NdArray.of(b, 2).convert(DType.F32));
        Tree<NdArray> state = opt.init(params.map(NdArray::type));
        Jit step = Jit.builder("adamw", in -> {
            var u = opt.apply(in.subtree("params"), in.subtree("grads"), in.subtree("opt"), in.get("lr"));
            return Tree.<Tensor>empty().nest("params", u.params()).nest("opt", u.state()).with("norm", u.gradNorm());
        }).donate("params", "opt").build(TestPlugins.cpuClient(1));

        // Reference state, in double.
        double[][] p = {w.clone(), b.clone()};
        double[][] m = {new double[n], new double[2]}, v = {new double[n], new double[2]};
        Tree<Object> cur = Tree.<Object>empty().nest("params", params).nest("opt", state);
        double[] lrs = {0.1, 0.05, 0.02};
        for (int s = 0; s < 3; s++) {
            double[][] g = {new double[n], new double[2]};
            double scaleUp = s == 0 ? 5 : 0.1; // first step's norm is above the clip, later ones below
            for (int i = 0; i < n; i++) {
                g[0][i] = r.nextGaussian() * scaleUp;
            }
            g[1][0] = r.nextGaussian() * scaleUp;
            g[1][1] = r.nextGaussian() * scaleUp;
            // float32 rounding of the inputs, as the device sees them
            for (double[] gg : g) {
                for (int i = 0; i < gg.length; i++) {
                    gg[i] = (float) gg[i];
                }
            }
            double norm = 0;
            for (double[] gg : g) {
                for (double x : gg) {
                    norm += x * x;
                }
            }
            norm = Math.sqrt(norm);
            double clip = norm < 1.0 ? 1 : 1.0 / norm;
            int t = s + 1;
            for (int k = 0; k < 2; k++) {
                for (int i = 0; i < p[k].length; i++) {
                    double gi = g[k][i] * clip;
                    m[k][i] = 0.9 * m[k][i] + 0.1 * gi;
                    v[k][i] = 0.95 * v[k][i] + 0.05 * gi * gi;
                    double u = (m[k][i] / (1 - Math.pow(0.9, t))) / (Math.sqrt(v[k][i] / (1 - Math.pow(0.95, t))) + 1e-8);
                    if (k == 0) {
                        u += 0.1 * p[k][i];
                    }
                    p[k][i] -= lrs[s] * u;
                }
            }
            Tree<Object> in = cur.with("grads.layer.kernel", NdArray.of(g[0], 2, 3).convert(DType.F32))
                    .with("grads.layer.bias", NdArray.of(g[1], 2).convert(DType.F32))
                    .with("lr", NdArray.scalar(DType.F32, lrs[s]));
            Tree<DeviceArray> out = step.call(in);
            assertEquals(norm, out.get("norm").toHost().get(0), 1e-5 * norm);
            out.get("norm").close();
            cur = Tree.<Object>empty().nest("params", out.subtree("params")).nest("opt", out.subtree("opt"));
        }
        double[] gotW = ((DeviceArray) cur.get("params.layer.kernel")).toHost().toDoubleArray();
        double[] gotB = ((DeviceArray) cur.get("params.layer.bias")).toHost().toDoubleArray();
        for (int i = 0; i < n; i++) {
            assertEquals(p[0][i], gotW[i], 1e-5, "kernel " + i);
        }
        for (int i = 0; i < 2; i++) {
            assertEquals(p[1][i], gotB[i], 1e-5, "bias " + i);
        }
        assertEquals(3, (int) ((DeviceArray) cur.get("opt.count")).toHost().get(0));
        assertEquals(1, step.compileCount());
        cur.values().forEach(x -> ((DeviceArray) x).close());
        step.close();
    }

    @Test
    void warmupCosineScheduleMatchesTheOriginalShape() {
        LrSchedule s = LrSchedule.warmupCosine(0.0, 0.01, 2000, 500000, 0.001);
        assertEquals(0.0, s.at(0));
        assertEquals(0.005, s.at(1000), 1e-12);
        assertEquals(0.01, s.at(2000), 1e-12);
        assertEquals(0.001, s.at(500000), 1e-12);
        assertEquals(0.001, s.at(900000), 1e-12);
        double mid = s.at(2000 + (500000 - 2000) / 2);
        assertEquals(0.001 + (0.01 - 0.001) * 0.5, mid, 1e-9);
        assertEquals(0.01 / Math.sqrt(100), LrSchedule.inverseSqrt(0.01, 100).at(5), 1e-12);
        assertEquals(0.01 / Math.sqrt(400), LrSchedule.inverseSqrt(0.01, 100).at(400), 1e-12);
    }
}
