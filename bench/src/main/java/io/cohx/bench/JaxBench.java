package io.cohx.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * cohx's CoH train step against the original's in JAX ({@code tools/reference/jax_train_step.py},
 * pinned, in its own venv made on first use), same LLaMA config, same batches, in one run on one
 * machine. Both sides compile first; then rounds alternate: k cohx steps, k JAX steps (the order
 * flips each round so a change in machine load hits both). Prints one JSON line per round and
 * one summary line per config with the median step times and their ratio, cohx / JAX (below 1:
 * cohx is faster), and the load average before and after.
 *
 * <p>Configs: {@code debug} (LLaMA hidden 256, intermediate 688, 4 layers, 4 heads, vocab
 * 32000) and {@code 125m} (hidden 768, intermediate 2048, 12 layers, 12 heads, vocab 32000);
 * sequence 256, batch 2 of feedback and 2 of pretraining, f32, blocks rematerialised with the
 * original's default policy ({@code nothing_saveable}) unless {@code --remat} says otherwise (a
 * {@code jax.checkpoint_policies} name, or {@code none}). {@code --loss-chunk} and
 * {@code --attention-chunk} set cohx's memory-lean loss and attention (the JAX side is always the
 * original's). Usage: {@code bench/run JaxBench [debug|125m|both] [--rounds 5] [--steps 2]
 * [--remat POLICY|none] [--seq 256] [--batch 2] [--dtype f32|bf16] [--loss-chunk N] [--attention-chunk N]}.
 */
public final class JaxBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Options(String which, int rounds, int steps, String remat, int seq, int batch, String dtype, int lossChunk,
                   int attentionChunk) {
        static Options parse(String[] args) {
            String which = "both";
            var o = new LinkedHashMap<String, String>(Map.of("--rounds", "5", "--steps", "2", "--remat", "nothing_saveable",
                    "--seq", "256", "--batch", "2", "--dtype", "f32", "--loss-chunk", "0", "--attention-chunk", "0"));
            for (int i = 0; i < args.length; i++) {
                if (o.containsKey(args[i]) && i + 1 < args.length) {
                    o.put(args[i], args[++i]);
                } else if (!args[i].startsWith("--")) {
                    which = args[i];
                } else {
                    throw new IllegalArgumentException("JaxBench: unknown option " + args[i] + "; options are " + o.keySet());
                }
            }
            return new Options(which, Integer.parseInt(o.get("--rounds")), Integer.parseInt(o.get("--steps")), o.get("--remat"),
                    Integer.parseInt(o.get("--seq")), Integer.parseInt(o.get("--batch")), o.get("--dtype"),
                    Integer.parseInt(o.get("--loss-chunk")), Integer.parseInt(o.get("--attention-chunk")));
        }
    }

    public static void main(String[] args) throws Exception {
        Options opt = Options.parse(args);
        List<BenchStep.Shape> configs = BenchStep.Shape.named(opt.which());
        Path script = root().resolve("tools/reference/jax_train_step.py");
        PjrtPlugin plugin = PjrtPlugin.load(Plugins.resolve("cpu", null, m -> System.err.println("bench: " + m)).library());
        try (PjrtClient client = PjrtClient.create(plugin, Map.of("cpu_device_count", 1L))) {
            for (BenchStep.Shape c : configs) {
                run(c, opt, client, script);
            }
        }
    }

    /** The repository root: {@code -Dcohx.root} (bench/run sets it), else the working directory. */
    static Path root() {
        return Path.of(System.getProperty("cohx.root", ".")).toAbsolutePath().normalize();
    }

    static void run(BenchStep.Shape c, Options opt, PjrtClient client, Path script) throws Exception {
        double loadBefore = loadAverage();
        var cmd = new ArrayList<>(List.of("python3", script.toString(), "--bootstrap", "--vocab", "32000",
                "--hidden", "" + c.hidden(), "--intermediate", "" + c.intermediate(), "--layers", "" + c.layers(),
                "--heads", "" + c.heads(), "--seq", "" + opt.seq(), "--batch", "" + opt.batch(), "--dtype", opt.dtype(),
                "--remat", opt.remat()));
        Process py = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        RematPolicy remat = opt.remat().equals("none") ? RematPolicy.EVERYTHING_SAVEABLE : RematPolicy.of(opt.remat());
        DType dtype = opt.dtype().equals("bf16") ? DType.BF16 : DType.F32;
        try (var cohx = new BenchStep(c, opt.seq(), opt.batch(), dtype, new TrainStep.Memory(remat, opt.lossChunk(), opt.attentionChunk()),
                client);
             var in = new BufferedReader(new InputStreamReader(py.getInputStream(), StandardCharsets.UTF_8));
             var out = new PrintWriter(py.getOutputStream(), true, StandardCharsets.UTF_8)) {
            JsonNode ready = JSON.readTree(readLine(in, py));
            cohx.steps(1); // compile + first step
            out.println("run 1");
            readLine(in, py);
            out.println("memory");
            JsonNode jaxMem = JSON.readTree(readLine(in, py));
            List<Double> ours = new ArrayList<>();
            List<Double> theirs = new ArrayList<>();
            long cohxCpu0 = cohx.cpuNanos;
            double jaxCpu = 0;
            for (int r = 0; r < opt.rounds(); r++) {
                List<Double> a = null;
                JsonNode b = null;
                for (int side = 0; side < 2; side++) {
                    if ((side == 0) == (r % 2 == 0)) {
                        a = cohx.steps(opt.steps());
                    } else {
                        out.println("run " + opt.steps());
                        b = JSON.readTree(readLine(in, py));
                    }
                }
                List<Double> bt = new ArrayList<>();
                b.get("step_s").forEach(x -> bt.add(x.asDouble()));
                jaxCpu += b.get("cpu_s").asDouble();
                ours.addAll(a);
                theirs.addAll(bt);
                System.out.printf(Locale.ROOT, "{\"bench\":\"jax_side_by_side.round\",\"config\":\"%s\",\"round\":%d,\"cohx_step_s\":%s,"
                        + "\"jax_step_s\":%s,\"cohx_loss\":%.4f,\"jax_loss\":%.4f}%n", c.name(), r, a, bt, cohx.loss, b.get("loss").asDouble());
            }
            out.println("quit");
            double mo = BenchStep.median(ours);
            double mt = BenchStep.median(theirs);
            MemoryReport mem = cohx.memory();
            System.out.printf(Locale.ROOT, "{\"bench\":\"jax_side_by_side\",\"config\":\"%s\",\"params\":%d,\"jax_params\":%d,\"hidden\":%d,"
                            + "\"layers\":%d,\"vocab\":32000,\"seq\":%d,\"batch\":%d,\"dtype\":\"%s\",\"remat\":\"%s\",\"cohx_loss_chunk\":%d,"
                            + "\"cohx_attention_chunk\":%d,\"rounds\":%d,"
                            + "\"steps_per_round\":%d,\"cohx_median_step_s\":%.3f,\"jax_median_step_s\":%.3f,\"ratio_cohx_over_jax\":%.3f,"
                            + "\"cohx_cpu_s_per_step\":%.3f,\"jax_cpu_s_per_step\":%.3f,"
                            + "\"cohx_temp_mib\":%.1f,\"jax_temp_mib\":%.1f,\"jax\":\"%s\",\"load_before\":%.1f,\"load_after\":%.1f}%n",
                    c.name(), cohx.params, ready.get("params").asLong(), c.hidden(), c.layers(), opt.seq(), opt.batch(), opt.dtype(),
                    opt.remat(), opt.lossChunk(), opt.attentionChunk(), opt.rounds(), opt.steps(), mo, mt, mo / mt, (cohx.cpuNanos - cohxCpu0) / 1e9 / ours.size(), jaxCpu / theirs.size(),
                    mem.temporaries() / 1048576.0,
                    jaxMem.get("temporaries").asDouble() / 1048576.0, ready.get("jax").asText(), loadBefore, loadAverage());
        } finally {
            py.destroy();
            py.waitFor();
        }
    }

    private static String readLine(BufferedReader in, Process py) throws IOException {
        String line = in.readLine();
        if (line == null) {
            throw new IOException("the JAX side (tools/reference/jax_train_step.py) stopped; exit status "
                    + (py.isAlive() ? "?" : py.exitValue()) + " (its messages are above)");
        }
        return line;
    }

    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
