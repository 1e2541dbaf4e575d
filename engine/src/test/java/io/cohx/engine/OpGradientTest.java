package io.cohx.engine;

import io.cohx.engine.GradCheck.Case;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import static io.cohx.engine.GradCheck.awayFromZero;
import static io.cohx.engine.GradCheck.ints;
import static io.cohx.engine.GradCheck.randomShape;
import static io.cohx.engine.GradCheck.uniform;

/**
 * The gradient of every differentiable op against central finite differences in f64, over
 * random shapes and values from a seeded generator; each seed is one draw of every op, compiled
 * as one program.
 */
class OpGradientTest {

    @ParameterizedTest(name = "draw {0}")
    @ValueSource(longs = {11, 22, 33})
    void everyOpMatchesFiniteDifferences(long seed) {
        GradCheck.check(cases(new Random(seed)));
    }

    private static Case unary(Random r, String name, double lo, double hi, boolean signed, Function<Tensor, Tensor> f) {
        int[] s = randomShape(r, 3);
        NdArray x = signed ? awayFromZero(r, lo, hi, s) : uniform(r, lo, hi, s);
        return new Case(name, Tree.of("x", x), t -> f.apply(t.get("x")));
    }

    /** Second operand broadcast from a suffix of the first's shape with some dims set to 1. */
    private static int[] broadcastable(Random r, int[] s) {
        int k = r.nextInt(s.length + 1);
        int[] d = new int[k];
        for (int i = 0; i < k; i++) {
            d[i] = r.nextInt(3) == 0 ? 1 : s[s.length - k + i];
        }
        return d;
    }

    private static Case binary(Random r, String name, double lo, double hi, Function<Tensor[], Tensor> f) {
        int[] s = randomShape(r, 3);
        int[] s2 = broadcastable(r, s);
        boolean swap = r.nextBoolean();
        NdArray a = uniform(r, lo, hi, swap ? s2 : s);
        NdArray b = uniform(r, lo, hi, swap ? s : s2);
        return new Case(name, Tree.of("x", a, "y", b), t -> f.apply(new Tensor[] {t.get("x"), t.get("y")}));
    }

    static List<Case> cases(Random r) {
        List<Case> c = new ArrayList<>();
        // unary
        c.add(unary(r, "neg", -2, 2, false, Tensor::neg));
        c.add(unary(r, "abs", 0.1, 2, true, Tensor::abs));
        c.add(unary(r, "exp", -2, 2, false, Tensor::exp));
        c.add(unary(r, "log", 0.5, 3, false, Tensor::log));
        c.add(unary(r, "log1p", -0.5, 2, false, Tensor::log1p));
        c.add(unary(r, "sqrt", 0.5, 3, false, Tensor::sqrt));
        c.add(unary(r, "rsqrt", 0.5, 3, false, Tensor::rsqrt));
        c.add(unary(r, "tanh", -2, 2, false, Tensor::tanh));
        c.add(unary(r, "logistic", -3, 3, false, Tensor::logistic));
        c.add(unary(r, "sin", -3, 3, false, Tensor::sin));
        c.add(unary(r, "cos", -3, 3, false, Tensor::cos));
        c.add(unary(r, "erf", -2, 2, false, Tensor::erf));
        c.add(unary(r, "erf_inv", -0.8, 0.8, false, Tensor::erfInv));
        c.add(unary(r, "sign", 0.1, 2, true, x -> x.sign().mul(x)));
        int[] fs = randomShape(r, 3);
        NdArray fx = uniform(r, -3, 3, fs);
        for (long i = 0; i < fx.size(); i++) {
            fx.set(i, Math.floor(fx.get(i)) + 0.2 + 0.6 * r.nextDouble());
        }
        c.add(new Case("floor", Tree.of("x", fx), t -> t.get("x").floor().mul(t.get("x"))));
        // binary, with broadcasting
        c.add(binary(r, "add", -2, 2, t -> t[0].add(t[1])));
        c.add(binary(r, "sub", -2, 2, t -> t[0].sub(t[1])));
        c.add(binary(r, "mul", -2, 2, t -> t[0].mul(t[1])));
        c.add(binary(r, "div", 0.5, 2, t -> t[0].div(t[1].neg())));
        c.add(binary(r, "pow", 0.5, 2, t -> t[0].pow(t[1].sub(1))));
        c.add(binary(r, "max", -2, 2, t -> t[0].max(t[1])));
        c.add(binary(r, "min", -2, 2, t -> t[0].min(t[1])));
        // select, clamp
        int[] ss = randomShape(r, 3);
        c.add(new Case("select", Tree.of("a", uniform(r, -2, 2, ss), "b", uniform(r, -2, 2, ss), "m", ints(r, 0, 2, ss)),
                t -> t.get("m").gt(Constants.scalar(0, DType.S32)).select(t.get("a"), t.get("b"))));
        int[] cs = randomShape(r, 3);
        NdArray cx = awayFromZero(r, 0, 2, cs);
        for (long i = 0; i < cx.size(); i++) {
            if (Math.abs(Math.abs(cx.get(i)) - 1) < 0.1) {
                cx.set(i, cx.get(i) * 1.3);
            }
        }
        c.add(new Case("clamp", Tree.of("x", cx, "lo", NdArray.of(new double[] {-1}), "hi", NdArray.of(new double[] {1})),
                t -> Elementwise.clamp(t.get("lo").reshape(), t.get("x"), t.get("hi").reshape())));
        // shape ops
        int[] bs = randomShape(r, 2);
        c.add(new Case("broadcast_in_dim", Tree.of("x", uniform(r, -1, 1, bs)), t -> {
            Tensor x = t.get("x");
            int[] out = new int[x.rank() + 1];
            out[0] = 3;
            for (int i = 0; i < x.rank(); i++) {
                out[i + 1] = x.dim(i) == 1 ? 2 : x.dim(i);
            }
            return x.broadcastTo(out);
        }));
        int[] rs = randomShape(r, 3);
        c.add(new Case("reshape", Tree.of("x", uniform(r, -1, 1, rs)), t -> t.get("x").reshape(-1)));
        int[] ts = new int[] {1 + r.nextInt(3), 1 + r.nextInt(3), 1 + r.nextInt(3)};
        int[][] perms = {{2, 0, 1}, {1, 2, 0}, {0, 2, 1}, {2, 1, 0}};
        int[] perm = perms[r.nextInt(perms.length)];
        c.add(new Case("transpose", Tree.of("x", uniform(r, -1, 1, ts)), t -> t.get("x").transpose(perm)));
        int[] sl = {2 + r.nextInt(4), 2 + r.nextInt(4)};
        int st0 = r.nextInt(2);
        int stride = 1 + r.nextInt(2);
        c.add(new Case("slice", Tree.of("x", uniform(r, -1, 1, sl)), t -> Shapes.slice(t.get("x"),
                new int[] {st0, 0}, new int[] {sl[0], sl[1] - 1}, new int[] {stride, 1})));
        int cat = r.nextInt(2);
        int[] ca = {2, 3};
        int[] cb = ca.clone();
        cb[cat] = 1 + r.nextInt(3);
        c.add(new Case("concatenate", Tree.of("a", uniform(r, -1, 1, ca), "b", uniform(r, -1, 1, cb)),
                t -> Shapes.concatenate(cat, t.get("a"), t.get("b"))));
        int[] ps = {2 + r.nextInt(3), 2 + r.nextInt(3)};
        c.add(new Case("pad", Tree.of("x", uniform(r, -1, 1, ps), "v", uniform(r, -1, 1)),
                t -> Shapes.pad(t.get("x"), t.get("v"), new int[] {1, -1}, new int[] {r.nextInt(2), 2}, new int[] {r.nextInt(2), 1})));
        int[] ds = {3 + r.nextInt(3), 2 + r.nextInt(3)};
        c.add(new Case("dynamic_slice", Tree.of("x", uniform(r, -1, 1, ds), "i", ints(r, 0, 3), "j", ints(r, 0, 2)),
                t -> Shapes.dynamicSlice(t.get("x"), new Tensor[] {t.get("i"), t.get("j")}, 2, 1)));
        c.add(new Case("dynamic_update_slice", Tree.of("x", uniform(r, -1, 1, ds), "u", uniform(r, -1, 1, 2, 2), "i", ints(r, 0, 3)),
                t -> Shapes.dynamicUpdateSlice(t.get("x"), t.get("u"), t.get("i"), t.get("i")).mul(t.get("x"))));
        int[] rv = randomShape(r, 3);
        c.add(new Case("reverse", Tree.of("x", uniform(r, -1, 1, rv)), t -> rv.length == 0 ? t.get("x") : Shapes.reverse(t.get("x"), 0)));
        // contractions
        int b = 1 + r.nextInt(3);
        int m = 1 + r.nextInt(3);
        int k = 1 + r.nextInt(3);
        int n = 1 + r.nextInt(3);
        c.add(new Case("dot_general batched", Tree.of("a", uniform(r, -1, 1, k, b, m), "b", uniform(r, -1, 1, b, n, k)),
                t -> Dot.dotGeneral(t.get("a"), t.get("b"), new Dot.Dims(new int[] {1}, new int[] {0}, new int[] {0}, new int[] {2}), null)));
        c.add(new Case("matmul", Tree.of("a", uniform(r, -1, 1, b, m, k), "b", uniform(r, -1, 1, k, n)),
                t -> t.get("a").matmul(t.get("b"))));
        c.add(new Case("einsum", Tree.of("q", uniform(r, -1, 1, b, m, 2, k), "kk", uniform(r, -1, 1, b, n, 2, k)),
                t -> Dot.einsum("bqhd,bkhd->bhqk", t.get("q"), t.get("kk"))));
        // reductions
        int[] red = {1 + r.nextInt(3), 1 + r.nextInt(3), 1 + r.nextInt(3)};
        int ax = r.nextInt(3);
        c.add(new Case("reduce_sum", Tree.of("x", uniform(r, -1, 1, red)), t -> t.get("x").sum(ax, (ax + 1) % 3)));
        c.add(new Case("reduce_max", Tree.of("x", uniform(r, -1, 1, red)), t -> t.get("x").reduceMax(ax)));
        c.add(new Case("reduce_min", Tree.of("x", uniform(r, -1, 1, red)), t -> t.get("x").reduceMin(ax)));
        c.add(new Case("mean", Tree.of("x", uniform(r, -1, 1, red)), t -> t.get("x").mean(ax)));
        c.add(new Case("softmax", Tree.of("x", uniform(r, -2, 2, red)), t -> t.get("x").softmax(ax)));
        c.add(new Case("log_softmax", Tree.of("x", uniform(r, -2, 2, red)), t -> t.get("x").logSoftmax(ax)));
        c.add(new Case("logsumexp", Tree.of("x", uniform(r, -2, 2, red)), t -> t.get("x").logsumexp(ax)));
        // indexing
        int v = 3 + r.nextInt(3);
        int d = 1 + r.nextInt(3);
        c.add(new Case("gather (take)", Tree.of("table", uniform(r, -1, 1, v, d), "ids", ints(r, 0, v, 2, 3)),
                t -> Indexing.take(t.get("table"), t.get("ids"))));
        c.add(new Case("take_along_axis", Tree.of("x", uniform(r, -1, 1, 2, 3, v), "ids", ints(r, 0, v, 2, 3, 1)),
                t -> Indexing.takeAlongAxis(t.get("x"), t.get("ids"), -1)));
        c.add(new Case("scatter_add", Tree.of("x", uniform(r, -1, 1, v, d), "u", uniform(r, -1, 1, 4, d), "ids", ints(r, 0, v, 4)),
                t -> Indexing.scatterAdd(t.get("x"), t.get("ids"), t.get("u"),
                        new Indexing.ScatterDims(new int[] {1}, new int[] {0}, new int[] {0}, 1)).square()));
        // control: checkpoint and scan
        c.add(new Case("checkpoint", Tree.of("x", uniform(r, -1, 1, 3, 2), "w", uniform(r, -1, 1, 2, 2)), t -> {
            Tensor w = t.get("w");
            return Control.checkpoint(xs -> List.of(xs.getFirst().matmul(w).tanh().mul(xs.getFirst())), List.of(t.get("x"))).getFirst();
        }));
        int steps = 2 + r.nextInt(3);
        c.add(new Case("scan", Tree.of("h", uniform(r, -1, 1, 2), "xs", uniform(r, -1, 1, steps, 2), "w", uniform(r, -1, 1, 2, 2)), t -> {
            Tensor w = t.get("w");
            var res = Control.scan((carry, x) -> {
                Tensor h = carry.getFirst().matmul(w).add(x.getFirst()).tanh();
                return new Control.Step(List.of(h), List.of(h.mul(x.getFirst())));
            }, List.of(t.get("h")), List.of(t.get("xs")), steps);
            return res.ys().getFirst().sum().add(res.carry().getFirst().sum());
        }));
        c.add(new Case("scan of checkpointed layers", Tree.of("h", uniform(r, -1, 1, 2, 3), "ws", uniform(r, -1, 1, steps, 3, 3)), t -> {
            var res = Control.scan((carry, w) -> {
                List<Tensor> out = Control.checkpoint(a -> List.of(a.get(0).matmul(a.get(1)).softmax(-1).add(a.get(0))),
                        List.of(carry.getFirst(), w.getFirst()));
                return new Control.Step(out, List.of());
            }, List.of(t.get("h")), List.of(t.get("ws")), steps);
            return res.carry().getFirst();
        }));
        return c;
    }
}
