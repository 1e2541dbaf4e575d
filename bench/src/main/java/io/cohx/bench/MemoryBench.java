package io.cohx.bench;

import io.cohx.coh.train.TrainStep;
import io.cohx.engine.DType;
import io.cohx.engine.MemoryReport;
import io.cohx.engine.RematPolicy;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.PjrtPlugin;
import io.cohx.pjrt.plugins.Plugins;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Memory and time of cohx's CoH train step under each memory setting: the remat policies, the
 * chunked loss and the chunked attention, alone and together, on the JaxBench configs
 * ({@code debug}: LLaMA hidden 256, 4 layers; {@code 125m}: hidden 768, 12 layers; vocab 32000,
 * f32). Each setting runs in a fresh JVM (so the process's peak RSS is its own): compile, then
 * {@code --steps} steps. One JSON line per setting with the compiled executable's figures
 * (temporaries = activations and scratch, the plugin's peak, and arguments + unaliased outputs +
 * temporaries), the process's peak RSS, and the median step time and the process CPU seconds per step.
 * Usage: {@code bench/run MemoryBench [debug|125m|both] [--seq 256] [--batch 2] [--chunk 64] [--steps 3]}.
 */
public final class MemoryBench {

    /** The settings compared, by name: remat policy, loss chunk, attention chunk (chunk sizes filled in from --chunk). */
    static Map<String, TrainStep.Memory> settings(int chunk) {
        var m = new LinkedHashMap<String, TrainStep.Memory>();
        m.put("plain", TrainStep.Memory.NONE);
        m.put("loss_chunk", new TrainStep.Memory(RematPolicy.EVERYTHING_SAVEABLE, chunk, 0));
        m.put("attention_chunk", new TrainStep.Memory(RematPolicy.EVERYTHING_SAVEABLE, 0, chunk));
        m.put("both_chunks", new TrainStep.Memory(RematPolicy.EVERYTHING_SAVEABLE, chunk, chunk));
        m.put("remat_nothing_saveable", new TrainStep.Memory(RematPolicy.NOTHING_SAVEABLE, 0, 0));
        m.put("remat_dots_saveable", new TrainStep.Memory(RematPolicy.DOTS_SAVEABLE, 0, 0));
        m.put("remat_dots_with_no_batch_dims_saveable", new TrainStep.Memory(RematPolicy.DOTS_WITH_NO_BATCH_DIMS_SAVEABLE, 0, 0));
        m.put("remat_nothing_saveable_both_chunks", new TrainStep.Memory(RematPolicy.NOTHING_SAVEABLE, chunk, chunk));
        return m;
    }

    public static void main(String[] args) throws Exception {
        var o = new LinkedHashMap<String, String>(Map.of("--seq", "256", "--batch", "2", "--chunk", "64", "--steps", "3"));
        String which = "both";
        String one = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--one") && i + 1 < args.length) {
                one = args[++i];
            } else if (o.containsKey(args[i]) && i + 1 < args.length) {
                o.put(args[i], args[++i]);
            } else if (!args[i].startsWith("--")) {
                which = args[i];
            } else {
                throw new IllegalArgumentException("MemoryBench: unknown option " + args[i] + "; options are " + o.keySet());
            }
        }
        int seq = Integer.parseInt(o.get("--seq"));
        int batch = Integer.parseInt(o.get("--batch"));
        int chunk = Integer.parseInt(o.get("--chunk"));
        int steps = Integer.parseInt(o.get("--steps"));
        if (one != null) {
            measure(BenchStep.Shape.named(which).getFirst(), one, settings(chunk).get(one), seq, batch, steps);
            return;
        }
        for (BenchStep.Shape shape : BenchStep.Shape.named(which)) {
            for (String name : settings(chunk).keySet()) {
                child(shape, name, args);
            }
        }
    }

    /** Runs one setting in a fresh JVM and passes its JSON line on. */
    private static void child(BenchStep.Shape shape, String setting, String[] args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-Xmx2g", "-cp", System.getProperty("java.class.path"),
                MemoryBench.class.getName()));
        for (String a : args) {
            if (!a.equals("debug") && !a.equals("125m") && !a.equals("both")) {
                cmd.add(a);
            }
        }
        cmd.addAll(List.of(shape.name(), "--one", setting));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (var in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                System.out.println(line);
            }
        }
        if (p.waitFor() != 0) {
            System.out.printf("{\"bench\":\"train_step_memory\",\"config\":\"%s\",\"setting\":\"%s\",\"failed\":%d}%n", shape.name(), setting,
                    p.exitValue());
        }
    }

    private static void measure(BenchStep.Shape shape, String name, TrainStep.Memory memory, int seq, int batch, int steps) throws IOException {
        PjrtPlugin plugin = PjrtPlugin.load(Plugins.resolve("cpu", null, m -> System.err.println("bench: " + m)).library());
        try (PjrtClient client = PjrtClient.create(plugin, Map.of("cpu_device_count", 1L));
             var step = new BenchStep(shape, seq, batch, DType.F32, memory, client)) {
            long t0 = System.nanoTime();
            MemoryReport r = step.memory();
            double compile = (System.nanoTime() - t0) / 1e9;
            double rssCompiled = status("VmRSS:");
            List<Double> times = step.steps(steps);
            double median = BenchStep.median(times.subList(Math.min(1, times.size() - 1), times.size()));
            System.out.printf(Locale.ROOT, "{\"bench\":\"train_step_memory\",\"config\":\"%s\",\"setting\":\"%s\",\"remat\":\"%s\","
                            + "\"loss_chunk\":%d,\"attention_chunk\":%d,\"params\":%d,\"seq\":%d,\"batch\":%d,\"compile_s\":%.1f,"
                            + "\"temporaries_mib\":%.1f,\"arguments_mib\":%.1f,\"plugin_peak_mib\":%.1f,\"peak_upper_bound_mib\":%.1f,"
                            + "\"rss_after_compile_mib\":%.0f,\"rss_peak_mib\":%.0f,\"median_step_s\":%.3f,\"cpu_step_s\":%.3f,\"loss\":%.4f,\"load\":%.1f}%n",
                    shape.name(), name, memory.remat().configName(), memory.lossChunk(), memory.attentionChunk(), step.params, seq, batch,
                    compile, mib(r.temporaries()), mib(r.arguments()), mib(r.peak()), mib(r.peakUpperBound()), rssCompiled,
                    status("VmHWM:"), median, step.cpuNanos / 1e9 / steps, step.loss, JaxBench.loadAverage());
        }
    }

    private static double mib(long bytes) {
        return bytes / 1048576.0;
    }

    /** A /proc/self/status figure in MiB (VmRSS, VmHWM). */
    static double status(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key)) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
            }
        }
        return -1;
    }
}
