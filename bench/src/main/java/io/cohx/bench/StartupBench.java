package io.cohx.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Time from process start to the first generated token, with a cold and a warm compile cache:
 * {@code cohx generate} is started as a fresh JVM with an empty cache folder, then again
 * {@code runs} times with the folder it filled; the clock stops when the first byte of generated
 * text reaches its stdout. Two models: the debug LLaMA (random weights, GPT-2 tokenizer; goal:
 * warm at most 5 s) and SmolLM2-135M-Instruct from its GGUF file (the one the models tests fetch
 * into the cohx test cache, or {@code gguf-file}; skipped, saying so, when absent), whose time
 * also holds reading and dequantizing the file. One JSON line per run and one summary per model.
 * Usage: {@code bench/run StartupBench [runs] [gguf-file]}.
 */
public final class StartupBench {

    public static void main(String[] args) throws Exception {
        int warmRuns = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        measure("llama-debug", List.of("--tokenizer", "gpt2", "--update-model-config", "vocab_size=50257", "--prompt",
                "User: How do I boil an egg? A helpful answer:"), warmRuns);
        Path gguf = args.length > 1 ? Path.of(args[1]) : defaultGguf();
        if (Files.isRegularFile(gguf)) {
            measure("smollm2-135m-q4_1", List.of("--load-checkpoint", "gguf::" + gguf, "--prompt", "The capital of France is"), warmRuns);
        } else {
            System.err.println("StartupBench: " + gguf + " is not there; pass a GGUF file, or fetch SmolLM2 with"
                    + " mvn -pl models -am test -Dtest=SmolLm2DequantTest");
        }
    }

    private static Path defaultGguf() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("cohx/test-data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    }

    private static void measure(String model, List<String> modelArgs, int warmRuns) throws Exception {
        Path cache = Files.createTempDirectory("cohx-compile-cache");
        try {
            double cold = firstToken(cache, "cold", model, modelArgs);
            List<Double> warm = new ArrayList<>();
            for (int i = 0; i < warmRuns; i++) {
                warm.add(firstToken(cache, "warm", model, modelArgs));
            }
            double best = warm.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
            System.out.printf(Locale.ROOT, "{\"bench\":\"first_token\",\"model\":\"%s\",\"cold_s\":%.2f,\"warm_best_s\":%.2f,"
                    + "\"warm_runs_s\":%s,\"cache_entries\":%d,\"goal_warm_s\":5}%n", model, cold, best,
                    warm.stream().map(w -> String.format(Locale.ROOT, "%.2f", w)).toList(), entries(cache));
        } finally {
            try (Stream<Path> walk = Files.walk(cache)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** Seconds from starting {@code cohx generate} to the first byte it prints on stdout. */
    private static double firstToken(Path cache, String kind, String model, List<String> modelArgs) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Dmsgpack.universal-buffer=true", "-cp",
                System.getProperty("java.class.path"), "io.cohx.cli.Main", "generate"));
        cmd.addAll(modelArgs);
        cmd.addAll(List.of("--max-new-tokens", "8", "--compile-cache", cache.toString()));
        var pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
        long t0 = System.nanoTime();
        Process p = pb.start();
        double first = Double.NaN;
        try (InputStream out = p.getInputStream()) {
            int b = out.read();
            if (b >= 0) {
                first = (System.nanoTime() - t0) / 1e9;
            }
            out.transferTo(OutputStream.nullOutputStream());
        }
        int code = p.waitFor();
        double total = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "{\"bench\":\"first_token_run\",\"model\":\"%s\",\"cache\":\"%s\",\"first_token_s\":%.2f,"
                + "\"process_s\":%.2f,\"exit\":%d}%n", model, kind, first, total, code);
        return code == 0 ? first : Double.NaN;
    }

    private static long entries(Path cache) throws IOException {
        try (Stream<Path> s = Files.list(cache)) {
            return s.filter(p -> p.toString().endsWith(".xla")).count();
        }
    }
}
