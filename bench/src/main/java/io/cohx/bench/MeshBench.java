package io.cohx.bench;

import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.MemoryReport;
import io.cohx.engine.Tree;
import io.cohx.engine.mesh.Mesh;
import io.cohx.engine.mesh.PartitionRules;
import io.cohx.engine.mesh.PartitionSpec;
import io.cohx.pjrt.PjrtClient;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Step time of a small LLaMA-shaped SGD step ({@link TinyLlama}: 2 layers, hidden 128, vocab
 * 32000, seq 64, global batch 8) on one CPU device without a mesh and on 8 CPU devices under
 * each mesh layout, same global batch; also compile time and per-device parameter bytes from
 * the dry-run memory report. One JSON line per layout. Parameters are donated and stay on the
 * devices; each step puts the batch and reads the loss back.
 * Usage: {@code bench/run MeshBench [steps] [layouts...]} (default 10 steps; layouts 1 8,1,1 1,8,1 1,1,8 2,2,2 1,4,2).
 */
public final class MeshBench {
    private MeshBench() {}

    /** The LLaMA rules for TinyLlama's parameter names. */
    static final PartitionRules RULES = new PartitionRules(List.of(
            new PartitionRules.Rule(Pattern.compile("^params\\.embed$"), PartitionSpec.of("mp", "fsdp")),
            new PartitionRules.Rule(Pattern.compile("\\.(wq|wk|wv|w1|w3)$"), PartitionSpec.of("fsdp", "mp")),
            new PartitionRules.Rule(Pattern.compile("\\.(wo|w2)$"), PartitionSpec.of("mp", "fsdp")),
            new PartitionRules.Rule(Pattern.compile("^params\\.lm_head$"), PartitionSpec.of("fsdp", "mp")),
            new PartitionRules.Rule(Pattern.compile(".*"), PartitionSpec.REPLICATED)));

    static PartitionSpec spec(String path) {
        return path.equals("tokens") || path.equals("targets") ? PartitionRules.BATCH : RULES.specFor(path);
    }

    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        List<String> layouts = args.length > 1 ? Arrays.asList(args).subList(1, args.length)
                : List.of("1", "8,1,1", "1,8,1", "1,1,8", "2,2,2", "1,4,2");
        TinyLlama m = new TinyLlama(2, 128, 256, 4, 32000, 64, 8);
        PjrtClient client = CpuClients.of(8);
        Tree<Object> inputs = m.randomInputs();
        for (String layout : layouts) {
            run(client, m, inputs, layout, steps);
        }
    }

    static void run(PjrtClient client, TinyLlama m, Tree<Object> inputs, String layout, int steps) {
        var b = Jit.builder("mesh_bench_" + layout.replace(',', '_'), t -> m.trainStep(t, 1e-2)).donate("params");
        int devices = 1;
        if (!layout.equals("1")) {
            Mesh mesh = Mesh.parse(layout, client.addressableDevices());
            devices = mesh.size();
            b.mesh(mesh, MeshBench::spec, MeshBench::spec);
        }
        try (Jit step = b.build(client)) {
            long t0 = System.nanoTime();
            MemoryReport mem = step.memoryReport(m.stepInputs());
            long t1 = System.nanoTime();
            Tree<Object> state = inputs;
            List<Double> times = new ArrayList<>();
            double first = 0;
            double last = 0;
            for (int i = 0; i < steps + 2; i++) {
                long s = System.nanoTime();
                Tree<DeviceArray> out = step.call(state);
                double loss = out.get("loss").toHost().get(0);
                long e = System.nanoTime();
                out.get("loss").close();
                if (i == 0) {
                    first = loss;
                }
                last = loss;
                if (i >= 2) { // the first two calls upload parameters from the host
                    times.add((e - s) / 1e6);
                }
                state = state.nest("params", out.subtree("params"));
            }
            state.subtree("params").values().forEach(v -> ((DeviceArray) v).close());
            List<Double> sorted = times.stream().sorted().toList();
            System.out.printf("{\"bench\":\"mesh.step\",\"layout\":\"%s\",\"devices\":%d,\"layers\":%d,\"hidden\":%d,\"vocab\":%d,"
                            + "\"seq\":%d,\"global_batch\":%d,\"compile_ms\":%.1f,\"steps\":%d,\"median_step_ms\":%.2f,\"min_step_ms\":%.2f,"
                            + "\"param_bytes_per_device\":%d,\"temp_bytes_per_device\":%d,\"loss_first\":%.4f,\"loss_last\":%.4f,"
                            + "\"cpu_cores\":%d}%n",
                    layout, devices, m.layers(), m.hidden(), m.vocab(), m.seq(), m.batch(), (t1 - t0) / 1e6, steps,
                    sorted.get(sorted.size() / 2), sorted.getFirst(), mem.inputBytesUnder("params"), mem.temporaries(), first, last,
                    Runtime.getRuntime().availableProcessors());
        }
    }
}
