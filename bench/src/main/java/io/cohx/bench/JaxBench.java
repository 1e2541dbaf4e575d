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
 * [--remat POLICY|none] [--seq 256] [--batch 2] [--dtype f32|bf16] [--loss-chunk N] [--attention-chunk N]
 * [--platform cpu|cuda12|cuda13] [--peak-tflops T]}. On a GPU ({@code --platform cuda12}, shape {@code 1b}) the
 * JAX side runs in its CUDA venv and both sides report tokens/s and model FLOPs utilisation (MFU,
 * {@link BenchStep.Shape#flopsPerToken}, over the device's dense peak).
 */
public final class JaxBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Options(String which, int rounds, int steps, String remat, int seq, int batch, String dtype, int lossChunk,
                   int attentionChunk, String platform, double peakTflops) {
        static Options parse(String[] args) {
            String which = "both";
            var o = new LinkedHashMap<String, String>(Map.of("--rounds", "5", "--steps", "2", "--remat", "nothing_saveable",
                    "--seq", "256", "--batch", "2", "--dtype", "f32", "--loss-chunk", "0", "--attention-chunk", "0"));
            o.put("--platform", "cpu");
            o.put("--peak-tflops", "0");
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
                    Integer.parseInt(o.get("--loss-chunk")), Integer.parseInt(o.get("--attention-chunk")), o.get("--platform"),
                    Double.parseDouble(o.get("--peak-tflops")));
        }
    }

    public static void main(String[] args) throws Exception {
        Options opt = Options.parse(args);
        List<BenchStep.Shape> configs = BenchStep.Shape.named(opt.which());
        Path script = root().resolve("tools/reference/jax_train_step.py");
        boolean cpu = opt.platform().equals("cpu");
        PjrtPlugin plugin = PjrtPlugin.load(Plugins.resolve(opt.platform(), null, m -> System.err.println("bench: " + m)).library());
        // On a GPU both sides share the device: each grows its pool on demand, up to 45% of it.
        try (PjrtClient client = PjrtClient.create(plugin, cpu ? Map.of("cpu_device_count", 1L)
                : Map.of("preallocate", false, "memory_fraction", 0.45))) {
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
        if (!opt.platform().equals("cpu")) {
            cmd.add("--cuda"); // the JAX side in its CUDA venv, on the GPU
        }
        var pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("XLA_PYTHON_CLIENT_PREALLOCATE", "false");
        pb.environment().put("XLA_PYTHON_CLIENT_MEM_FRACTION", "0.45");
        Process py = pb.start();
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
            double tokens = 2.0 * opt.batch() * opt.seq(); // feedback + pretraining rows
            String device = client.addressableDevices().getFirst().kind();
            double peak = opt.peakTflops() > 0 ? opt.peakTflops() : peakTflops(device, opt.dtype());
            double flops = tokens * c.flopsPerToken(opt.seq());
            System.out.printf(Locale.ROOT, "{\"bench\":\"jax_side_by_side\",\"config\":\"%s\",\"params\":%d,\"jax_params\":%d,\"hidden\":%d,"
                            + "\"layers\":%d,\"vocab\":32000,\"seq\":%d,\"batch\":%d,\"dtype\":\"%s\",\"remat\":\"%s\",\"cohx_loss_chunk\":%d,"
                            + "\"cohx_attention_chunk\":%d,\"rounds\":%d,"
                            + "\"steps_per_round\":%d,\"cohx_median_step_s\":%.3f,\"jax_median_step_s\":%.3f,\"ratio_cohx_over_jax\":%.3f,"
                            + "\"cohx_cpu_s_per_step\":%.3f,\"jax_cpu_s_per_step\":%.3f,"
                            + "\"cohx_temp_mib\":%.1f,\"jax_temp_mib\":%.1f,\"cohx_tokens_per_s\":%.0f,\"jax_tokens_per_s\":%.0f,"
                            + "\"device\":\"%s\",\"peak_tflops\":%s,\"cohx_mfu\":%s,\"jax_mfu\":%s,"
                            + "\"jax\":\"%s\",\"load_before\":%.1f,\"load_after\":%.1f}%n",
                    c.name(), cohx.params, ready.get("params").asLong(), c.hidden(), c.layers(), opt.seq(), opt.batch(), opt.dtype(),
                    opt.remat(), opt.lossChunk(), opt.attentionChunk(), opt.rounds(), opt.steps(), mo, mt, mo / mt, (cohx.cpuNanos - cohxCpu0) / 1e9 / ours.size(), jaxCpu / theirs.size(),
                    mem.temporaries() / 1048576.0,
                    jaxMem.get("temporaries").asDouble() / 1048576.0, tokens / mo, tokens / mt, device.replace("\"", "'"),
                    peak > 0 ? String.format(Locale.ROOT, "%.0f", peak) : "null", mfu(flops, mo, peak), mfu(flops, mt, peak),
                    ready.get("jax").asText(), loadBefore, loadAverage());
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

    /** Model FLOPs utilisation as a JSON number, or null without a known peak. */
    private static String mfu(double flops, double seconds, double peakTflops) {
        return peakTflops > 0 ? String.format(Locale.ROOT, "%.3f", flops / seconds / (peakTflops * 1e12)) : "null";
    }

    /**
     * Dense peak TFLOP/s of known NVIDIA parts for bf16/f16 (f32 without TF32 otherwise), from the
     * vendors' data sheets; 0 when the device is not in the table (pass --peak-tflops).
     */
    static double peakTflops(String deviceKind, String dtype) {
        String k = deviceKind.toUpperCase(Locale.ROOT);
        boolean half = !dtype.equals("f32");
        record Part(String name, double half, double f32) {}
        for (Part p : List.of(new Part("H200", 989, 67), new Part("H100 PCIE", 756, 51), new Part("H100", 989, 67),
                new Part("A100", 312, 19.5), new Part("L40S", 362, 91.6), new Part("L4", 121, 30.3), new Part("A10", 125, 31.2),
                new Part("V100", 125, 15.7))) {
            if (k.contains(p.name())) {
                return half ? p.half() : p.f32();
            }
        }
        return 0;
    }

    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
