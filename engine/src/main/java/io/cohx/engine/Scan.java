package io.cohx.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The scan loop behind {@link Control#scan}. The forward while carries
 * {@code [i, carry.., xs.., ys buffers.., saved carries..]}; step i reads {@code xs[i]}, writes
 * {@code ys[i]} and saves the carry it started from. The backward pass is a second while running
 * i = n-1 .. 0 that re-traces the body on the saved carry (so only carries are stored, like a
 * checkpoint per step) and accumulates the cotangents of xs and of captured values.
 */
final class Scan {
    private Scan() {}

    static Control.ScanResult build(Control.ScanBody body, List<Tensor> init, List<Tensor> xs, int length) {
        Graph g = Graph.current();
        for (Tensor x : xs) {
            if (x.rank() < 1 || x.shape().dim(0) != length) {
                throw EngineException.op("scan", "every xs array needs leading axis " + length + ", got " + x.type());
            }
        }
        int nc = init.size();
        int nx = xs.size();
        Graph bg = g.child();
        Tensor i = bg.parameter(ArrayType.of(DType.S32), "i");
        List<Tensor> carry = new ArrayList<>();
        for (Tensor c : init) {
            carry.add(bg.parameter(c.type(), "carry"));
        }
        List<Tensor> xsIn = new ArrayList<>();
        for (Tensor x : xs) {
            xsIn.add(bg.parameter(x.type(), "xs"));
        }
        Control.Step step = bg.tracing(() -> {
            List<Tensor> slices = new ArrayList<>();
            for (Tensor x : xsIn) {
                slices.add(row(x, i));
            }
            Control.Step s = body.apply(carry, slices);
            return new Control.Step(s.carry().stream().map(bg::resolve).toList(), s.y().stream().map(bg::resolve).toList());
        });
        if (step.carry().size() != nc) {
            throw EngineException.op("scan", "the body returned " + step.carry().size() + " carry values for " + nc);
        }
        for (int k = 0; k < nc; k++) {
            if (!step.carry().get(k).type().equals(init.get(k).type())) {
                throw EngineException.op("scan", "carry " + k + " enters as " + init.get(k).type() + " but the body returns "
                        + step.carry().get(k).type());
            }
        }
        int ny = step.y().size();
        List<Tensor> ysBuf = new ArrayList<>();
        for (Tensor y : step.y()) {
            ysBuf.add(bg.parameter(stacked(y.type(), length), "ys"));
        }
        List<Tensor> saved = new ArrayList<>();
        for (Tensor c : init) {
            saved.add(bg.parameter(stacked(c.type(), length), "saved"));
        }
        List<Tensor> out = bg.tracing(() -> {
            List<Tensor> r = new ArrayList<>();
            r.add(i.add(Constants.scalar(1, DType.S32)));
            r.addAll(step.carry());
            r.addAll(xsIn);
            for (int k = 0; k < ny; k++) {
                r.add(writeRow(ysBuf.get(k), step.y().get(k), i));
            }
            for (int k = 0; k < nc; k++) {
                r.add(writeRow(saved.get(k), carry.get(k), i));
            }
            return r;
        });
        Graph cg = g.child();
        Tensor ci = cg.parameter(ArrayType.of(DType.S32), "i");
        for (int k = 1; k < bg.params.size(); k++) {
            cg.parameter(bg.params.get(k).type(), "state");
        }
        Tensor cond = cg.tracing(() -> ci.lt(Constants.scalar(length, DType.S32)));
        List<Tensor> operands = new ArrayList<>();
        operands.add(Constants.scalar(0, DType.S32));
        operands.addAll(init);
        operands.addAll(xs);
        for (Tensor b : ysBuf) {
            operands.add(Constants.full(0, b.dtype(), b.shape()));
        }
        for (Tensor s : saved) {
            operands.add(Constants.full(0, s.dtype(), s.shape()));
        }
        Node n = Control.buildWhile(g, operands, cg, cond, bg, out, w -> new ScanOp(w, body, nc, nx, ny, length));
        List<Tensor> outs = Arrays.asList(n.outs);
        return new Control.ScanResult(outs.subList(1, 1 + nc), outs.subList(1 + nc + nx, 1 + nc + nx + ny));
    }

    static ArrayType stacked(ArrayType t, int length) {
        int[] d = t.shape().dims();
        int[] r = new int[d.length + 1];
        r[0] = length;
        System.arraycopy(d, 0, r, 1, d.length);
        return new ArrayType(t.dtype(), Shape.of(r));
    }

    /** {@code x[i]} with a traced i. */
    static Tensor row(Tensor x, Tensor i) {
        Tensor[] idx = new Tensor[x.rank()];
        idx[0] = i;
        for (int k = 1; k < idx.length; k++) {
            idx[k] = Constants.scalar(0, DType.S32);
        }
        int[] sizes = x.shape().dims();
        sizes[0] = 1;
        return Shapes.reshape(Shapes.dynamicSlice(x, idx, sizes), x.shape().drop(0).dims());
    }

    /** {@code buf[i] = v}. */
    static Tensor writeRow(Tensor buf, Tensor v, Tensor i) {
        Tensor[] idx = new Tensor[buf.rank()];
        idx[0] = i;
        for (int k = 1; k < idx.length; k++) {
            idx[k] = Constants.scalar(0, DType.S32);
        }
        return Shapes.dynamicUpdateSlice(buf, Shapes.expandDims(v, 0), idx);
    }

    record ScanOp(Control.WhileOp loop, Control.ScanBody body, int nc, int nx, int ny, int length) implements Op {
        @Override
        public String name() {
            return "scan";
        }

        @Override
        public void emit(Emitter e, Node n) {
            loop.emit(e, n);
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            Graph g = Graph.current();
            int capStart = 1 + nc + nx + ny + nc;
            List<Tensor> xs = Arrays.asList(n.inputs).subList(1 + nc, 1 + nc + nx);
            List<Tensor> caps = Arrays.asList(n.inputs).subList(capStart, n.inputs.length);
            List<Tensor> saved = Arrays.asList(n.outs).subList(1 + nc + nx + ny, capStart);
            List<Tensor> ctYs = new ArrayList<>();
            for (int k = 0; k < ny; k++) {
                Tensor c = cts[1 + nc + nx + k];
                ctYs.add(c != null ? c : Constants.zerosLike(n.outs[1 + nc + nx + k]));
            }
            List<Tensor> state = new ArrayList<>();
            state.add(Constants.scalar(length - 1, DType.S32));
            for (int k = 0; k < nc; k++) {
                state.add(cts[1 + k] != null ? cts[1 + k] : Constants.zerosLike(n.outs[1 + k]));
            }
            for (Tensor x : xs) {
                state.add(Constants.zerosLike(x));
            }
            for (Tensor c : caps) {
                state.add(c.dtype().isFloating() ? Constants.zerosLike(c) : c);
            }
            List<Tensor> r = Control.whileLoop(state,
                    s -> s.getFirst().ge(Constants.scalar(0, DType.S32)),
                    s -> backwardStep(s, xs, caps, saved, ctYs));
            Tensor[] in = new Tensor[n.inputs.length];
            for (int k = 0; k < nc; k++) {
                in[1 + k] = r.get(1 + k);
            }
            for (int k = 0; k < nx; k++) {
                in[1 + nc + k] = r.get(1 + nc + k);
            }
            for (int k = 0; k < caps.size(); k++) {
                in[capStart + k] = caps.get(k).dtype().isFloating() ? r.get(1 + nc + nx + k) : null;
            }
            return in;
        }

        private List<Tensor> backwardStep(List<Tensor> s, List<Tensor> xs, List<Tensor> caps, List<Tensor> saved, List<Tensor> ctYs) {
            Graph bg = Graph.current();
            Tensor j = s.getFirst();
            List<Tensor> ctC = s.subList(1, 1 + nc);
            List<Tensor> ctX = s.subList(1 + nc, 1 + nc + nx);
            List<Tensor> ctCap = s.subList(1 + nc + nx, s.size());
            int start = Autodiff.nextId(bg);
            List<Tensor> c = new ArrayList<>();
            for (Tensor sv : saved) {
                c.add(Control.identity(row(sv, j)));
            }
            List<Tensor> x = new ArrayList<>();
            for (Tensor xv : xs) {
                x.add(Control.identity(row(xv, j)));
            }
            Control.Step step = body.apply(c, x);
            List<Tensor> outs = new ArrayList<>();
            List<Tensor> outCts = new ArrayList<>(ctC);
            step.carry().forEach(t -> outs.add(bg.resolve(t)));
            step.y().forEach(t -> outs.add(bg.resolve(t)));
            for (Tensor cy : ctYs) {
                outCts.add(row(cy, j));
            }
            List<Tensor> wrt = new ArrayList<>(c);
            wrt.addAll(x);
            for (Tensor cap : caps) {
                wrt.add(bg.resolve(cap));
            }
            Tensor[] g = Autodiff.backprop(outs, outCts, wrt, start);
            List<Tensor> next = new ArrayList<>();
            next.add(j.sub(Constants.scalar(1, DType.S32)));
            for (int k = 0; k < nc; k++) {
                next.add(g[k] != null ? g[k] : Constants.zerosLike(c.get(k)));
            }
            for (int k = 0; k < nx; k++) {
                next.add(g[nc + k] == null ? ctX.get(k) : writeRow(ctX.get(k), g[nc + k], j));
            }
            for (int k = 0; k < caps.size(); k++) {
                Tensor gc = g[nc + nx + k];
                next.add(gc == null || !caps.get(k).dtype().isFloating() ? ctCap.get(k) : ctCap.get(k).add(gc));
            }
            return next;
        }
    }
}
