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

/** The compiled "palm" update against a double-precision implementation of the same rule. */
class PalmTest {

    @Test
    void matchesAReferenceOverThreeSteps() {
        var r = new Random(9);
        int n = 6;
        double[] w = new double[n];
        for (int i = 0; i < n; i++) {
            w[i] = r.nextGaussian();
        }
        double b1 = 0.9, b2 = 0.99, wdRate = 1e-4;
        Palm opt = new Palm(b1, b2, wdRate, 1.0, false, path -> true);
        Tree<NdArray> params = Tree.of("k", NdArray.of(w, 2, 3).convert(DType.F32));
        Jit step = Jit.builder("palm", in -> {
            var u = opt.apply(in.subtree("params"), in.subtree("grads"), in.subtree("opt"), in.get("lr"));
            return Tree.<Tensor>empty().nest("params", u.params()).nest("opt", u.state());
        }).donate("params", "opt").build(TestPlugins.cpuClient(1));
        double[] p = w.clone(), v = new double[n], m = new double[n];
        Tree<Object> cur = Tree.<Object>empty().nest("params", params).nest("opt", opt.init(params.map(NdArray::type)));
        LrSchedule sched = LrSchedule.palm(0.01, 4);
        for (int s = 0; s < 3; s++) {
            double[] g = new double[n];
            double norm = 0;
            for (int i = 0; i < n; i++) {
                g[i] = (float) (r.nextGaussian() * 0.2);
                norm += g[i] * g[i];
            }
            norm = Math.sqrt(norm);
            double clip = norm < 1 ? 1 : 1 / norm;
            double lr = sched.at(s);
            double t = s + 1;
            double decay = 1 - Math.pow(t, -b2);
            double rms = 0;
            for (double x : p) {
                rms += x * x;
            }
            rms = Math.max(Math.sqrt(rms / n), 1e-3);
            double wd = -(wdRate / 1e-4) * lr * lr;
            for (int i = 0; i < n; i++) {
                double gi = g[i] * clip;
                v[i] = decay * v[i] + (1 - decay) * (gi * gi + 1e-30);
                double u = gi / Math.sqrt(v[i]) * lr * rms;
                m[i] = b1 * m[i] + (1 - b1) * u;
                p[i] = p[i] - m[i] + wd * p[i];
            }
            Tree<Object> in = cur.with("grads.k", NdArray.of(g, 2, 3).convert(DType.F32)).with("lr", NdArray.scalar(DType.F32, lr));
            Tree<DeviceArray> out = step.call(in);
            cur = Tree.<Object>empty().nest("params", out.subtree("params")).nest("opt", out.subtree("opt"));
        }
        double[] got = ((DeviceArray) cur.get("params.k")).toHost().toDoubleArray();
        for (int i = 0; i < n; i++) {
            assertEquals(p[i], got[i], 1e-6, "param " + i);
        }
        assertEquals(0.01 / 0.01 / Math.sqrt(4), sched.at(0), 1e-12);
        cur.values().forEach(x -> ((DeviceArray) x).close());
        step.close();
    }
}
