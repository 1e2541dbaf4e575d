package io.cohx.bench;

import io.cohx.engine.DType;
import io.cohx.models.GgufWeights;
import io.cohx.models.checkpoint.AtomicFiles;
import io.cohx.models.checkpoint.DTypeNames;
import io.cohx.models.convert.Conversions;
import io.cohx.models.gguf.GgufReader;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.TreeMap;

/**
 * GGUF load speed and memory: dequantizes every tensor of a GGUF file (default: the SmolLM2-135M
 * Q4_1 file the models tests fetch into the cohx test cache) to f32 and to bf16, one tensor at a
 * time, then times the whole load into the parameter tree that train/serve use and the
 * gguf-to-cohx conversion. One JSON line each: MB/s of GGUF bytes read, values per second, peak
 * anonymous RSS during the step (heap and arenas; the file's mapped pages are page cache) and the
 * process peak RSS. A step the model cannot take (e.g. a config cohx refuses) prints an error line instead.
 * Usage: {@code bench/run GgufBench [FILE.gguf] [repeats]}.
 */
public final class GgufBench {
    public static void main(String[] args) throws IOException {
        Path file = args.length > 0 ? Path.of(args[0]) : defaultFile();
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        PeakRss.takeAnonMiB();
        long fileBytes;
        long values = 0;
        var types = new TreeMap<String, Integer>();
        try (GgufReader r = GgufReader.open(file)) {
            fileBytes = r.directory().stream().mapToLong(GgufReader.Tensor::byteSize).sum();
            for (GgufReader.Tensor t : r.directory()) {
                values += t.numel();
                types.merge(t.type().name(), 1, Integer::sum);
            }
        }
        System.out.printf(Locale.ROOT, "{\"bench\":\"gguf_file\",\"file\":\"%s\",\"tensor_mb\":%.1f,\"values\":%d,\"types\":\"%s\"}%n",
                file.getFileName(), fileBytes / 1e6, values, types);
        for (DType out : new DType[] {DType.F32, DType.BF16}) {
            dequantizeAll(file, out); // warm-up: JIT and page cache
            for (int i = 0; i < repeats; i++) {
                long t0 = System.nanoTime();
                dequantizeAll(file, out);
                report("gguf_dequantize_" + DTypeNames.of(out).numpy(), fileBytes, values, System.nanoTime() - t0);
            }
        }
        long t0 = System.nanoTime();
        try {
            GgufWeights.Loaded l = GgufWeights.load(file);
            report("gguf_load_param_tree_f32", fileBytes, values, System.nanoTime() - t0);
            if (l.params().size() == 0) {
                System.err.println();
            }
        } catch (RuntimeException e) {
            System.out.printf(Locale.ROOT, "{\"bench\":\"gguf_load_param_tree_f32\",\"error\":\"%s\"}%n",
                    e.getMessage().replace("\"", "'"));
        }
        Path dir = Files.createTempDirectory("cohx-ggufbench");
        try {
            t0 = System.nanoTime();
            Conversions.ggufToCohx(file, dir.resolve("ck"), Conversions.Options.defaults().withDtype(DType.BF16));
            report("gguf_to_cohx_bf16", fileBytes, values, System.nanoTime() - t0);
        } catch (RuntimeException e) {
            System.out.printf(Locale.ROOT, "{\"bench\":\"gguf_to_cohx_bf16\",\"error\":\"%s\"}%n", e.getMessage().replace("\"", "'"));
        } finally {
            AtomicFiles.deleteQuietly(dir);
        }
    }

    private static void dequantizeAll(Path file, DType out) {
        try (GgufReader r = GgufReader.open(file)) {
            for (GgufReader.Tensor t : r.directory()) {
                try (Arena arena = Arena.ofConfined()) {
                    r.read(t.name(), out, arena);
                }
            }
        }
    }

    private static Path defaultFile() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        Path f = base.resolve("cohx/test-data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
        if (!Files.isRegularFile(f)) {
            System.err.println("GgufBench: " + f + " is not there; pass a GGUF file, or fetch SmolLM2 with"
                    + " mvn -pl models -am test -Dtest=SmolLm2DequantTest");
            System.exit(2);
        }
        return f;
    }

    private static void report(String what, long bytes, long values, long nanos) {
        double secs = nanos / 1e9;
        System.out.printf(Locale.ROOT, "{\"bench\":\"%s\",\"gguf_mb\":%.1f,\"seconds\":%.3f,\"mb_per_s\":%.1f,\"mvalues_per_s\":%.1f,"
                        + "\"peak_rss_anon_mb\":%.1f,\"process_peak_rss_mb\":%.1f}%n",
                what, bytes / 1e6, secs, bytes / 1e6 / secs, values / 1e6 / secs, PeakRss.takeAnonMiB(), PeakRss.processPeakMiB());
    }
}
