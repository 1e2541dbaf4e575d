package io.cohx.bench;

import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.Program;
import io.cohx.engine.Tree;
import io.cohx.pjrt.CompileOptions;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.PjrtLoadedExecutable;


/**
 * Engine speed: (1) trace + differentiate + emit the SGD training step of a 32-layer decoder with
 * LLaMA-7B shapes (no compile; the goal is under 2 s), cold and best of the warm runs; (2) PJRT
 * CPU compile time of the same step at debug size (2 layers, hidden 128, intermediate 256,
 * 4 heads, vocab 32000, seq 64), and one run of it. One JSON line per measurement.
 * Usage: {@code bench/run EngineBench [warmRuns] [seq]}.
 */
public final class EngineBench {
    private EngineBench() {}

    public static void main(String[] args) {
        int warm = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int seq = args.length > 1 ? Integer.parseInt(args[1]) : 2048;
        traceGradEmit(TinyLlama.llama7b(seq), warm);
        compileDebug();
    }

    static void traceGradEmit(TinyLlama m, int warm) {
        long best = Long.MAX_VALUE;
        long cold = 0;
        long traceBest = 0;
        long emitBest = 0;
        int nodes = 0;
        long bytes = 0;
        for (int run = 0; run <= warm; run++) {
            long t0 = System.nanoTime();
            Program p = Program.trace("llama7b_step", m.stepInputs(), in -> m.trainStep(in, 1e-4));
            long t1 = System.nanoTime();
            String text = p.mlir();
            long t2 = System.nanoTime();
            nodes = p.graph().size();
            bytes = text.length();
            if (run == 0) {
                cold = t2 - t0;
            } else if (t2 - t0 < best) {
                best = t2 - t0;
                traceBest = t1 - t0;
                emitBest = t2 - t1;
            }
        }
        System.out.printf("{\"bench\":\"engine.trace_grad_emit\",\"model\":\"llama-7b-shapes\",\"layers\":%d,\"seq\":%d,"
                        + "\"nodes\":%d,\"mlir_bytes\":%d,\"cold_ms\":%.1f,\"warm_best_ms\":%.1f,\"trace_grad_ms\":%.1f,\"emit_ms\":%.1f,\"goal_ms\":2000}%n",
                m.layers(), m.seq(), nodes, bytes, cold / 1e6, best / 1e6, traceBest / 1e6, emitBest / 1e6);
    }

    static void compileDebug() {
        TinyLlama m = TinyLlama.debug();
        PjrtClient client = CpuClients.of(1);
        long t0 = System.nanoTime();
        Program p = Program.trace("debug_step", m.stepInputs(), in -> m.trainStep(in, 1e-2));
        String text = p.mlir();
        long t1 = System.nanoTime();
        try (PjrtLoadedExecutable exe = client.compile(text, CompileOptions.DEFAULT)) {
            long t2 = System.nanoTime();
            System.out.printf("{\"bench\":\"engine.compile_debug_step\",\"layers\":%d,\"hidden\":%d,\"vocab\":%d,\"seq\":%d,"
                            + "\"trace_emit_ms\":%.1f,\"compile_ms\":%.1f,\"outputs\":%d}%n",
                    m.layers(), m.hidden(), m.vocab(), m.seq(), (t1 - t0) / 1e6, (t2 - t1) / 1e6, exe.numOutputs());
        }
        // Run the step through Jit as users do (compiles again there), to show it executes.
        Tree<Object> in = m.randomInputs();
        try (Jit step = Jit.builder("debug_step", t -> m.trainStep(t, 1e-2)).donate("params").build(client)) {
            long t3 = System.nanoTime();
            Tree<DeviceArray> out = step.call(in);
            double loss = out.get("loss").toHost().get(0);
            long t4 = System.nanoTime();
            Tree<Object> next = in.nest("params", out.subtree("params"));
            long t5 = System.nanoTime();
            Tree<DeviceArray> out2 = step.call(next);
            double loss2 = out2.get("loss").toHost().get(0);
            long t6 = System.nanoTime();
            System.out.printf("{\"bench\":\"engine.run_debug_step\",\"first_call_ms\":%.1f,\"second_call_ms\":%.1f,\"loss\":%.4f,\"loss_after_step\":%.4f,\"compiles\":%d}%n",
                    (t4 - t3) / 1e6, (t6 - t5) / 1e6, loss, loss2, step.compileCount());
            out2.values().forEach(DeviceArray::close);
        }
    }
}
