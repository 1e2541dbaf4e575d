package io.cohx.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.coh.train.TrainStep;
import io.cohx.engine.ArrayType;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.MemoryReport;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.engine.optim.AdamW;
import io.cohx.engine.optim.LrSchedule;
import io.cohx.models.CausalLm;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
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
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

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
 * original's default policy ({@code nothing_saveable}) unless {@code --remat} says otherwise.
 * Usage: {@code bench/run JaxBench [debug|125m|both] [--rounds 5] [--steps 2] [--remat none]
 * [--seq 256] [--batch 2] [--dtype f32|bf16]}.
 */
public final class JaxBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One side-by-side config. */
    record Config(String name, int hidden, int intermediate, int layers, int heads) {}

    record Options(String which, int rounds, int steps, String remat, int seq, int batch, String dtype) {
        static Options parse(String[] args) {
            String which = "both";
            var o = new LinkedHashMap<String, String>(Map.of("--rounds", "5", "--steps", "2", "--remat", "nothing_saveable",
                    "--seq", "256", "--batch", "2", "--dtype", "f32"));
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
                    Integer.parseInt(o.get("--seq")), Integer.parseInt(o.get("--batch")), o.get("--dtype"));
        }
    }

    public static void main(String[] args) throws Exception {
        Options opt = Options.parse(args);
        var configs = new ArrayList<Config>();
        if (!opt.which().equals("125m")) {
            configs.add(new Config("debug", 256, 688, 4, 4));
        }
        if (!opt.which().equals("debug")) {
            configs.add(new Config("125m", 768, 2048, 12, 12));
        }
        Path script = root().resolve("tools/reference/jax_train_step.py");
        PjrtPlugin plugin = PjrtPlugin.load(Plugins.resolve("cpu", null, m -> System.err.println("bench: " + m)).library());
        try (PjrtClient client = PjrtClient.create(plugin, Map.of("cpu_device_count", 1L))) {
            for (Config c : configs) {
                run(c, opt, client, script);
            }
        }
    }

    /** The repository root: {@code -Dcohx.root} (bench/run sets it), else the working directory. */
    static Path root() {
        return Path.of(System.getProperty("cohx.root", ".")).toAbsolutePath().normalize();
    }

    static void run(Config c, Options opt, PjrtClient client, Path script) throws Exception {
        double loadBefore = loadAverage();
        var cmd = new ArrayList<>(List.of("python3", script.toString(), "--bootstrap", "--vocab", "32000",
                "--hidden", "" + c.hidden(), "--intermediate", "" + c.intermediate(), "--layers", "" + c.layers(),
                "--heads", "" + c.heads(), "--seq", "" + opt.seq(), "--batch", "" + opt.batch(), "--dtype", opt.dtype(),
                "--remat", opt.remat()));
        Process py = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (var cohx = new CohxSide(c, opt, client);
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
            double mo = median(ours);
            double mt = median(theirs);
            MemoryReport mem = cohx.memory();
            System.out.printf(Locale.ROOT, "{\"bench\":\"jax_side_by_side\",\"config\":\"%s\",\"params\":%d,\"jax_params\":%d,\"hidden\":%d,"
                            + "\"layers\":%d,\"vocab\":32000,\"seq\":%d,\"batch\":%d,\"dtype\":\"%s\",\"remat\":\"%s\",\"rounds\":%d,"
                            + "\"steps_per_round\":%d,\"cohx_median_step_s\":%.3f,\"jax_median_step_s\":%.3f,\"ratio_cohx_over_jax\":%.3f,"
                            + "\"cohx_cpu_s_per_step\":%.3f,\"jax_cpu_s_per_step\":%.3f,"
                            + "\"cohx_temp_mib\":%.1f,\"jax_temp_mib\":%.1f,\"jax\":\"%s\",\"load_before\":%.1f,\"load_after\":%.1f}%n",
                    c.name(), cohx.params, ready.get("params").asLong(), c.hidden(), c.layers(), opt.seq(), opt.batch(), opt.dtype(),
                    opt.remat(), opt.rounds(), opt.steps(), mo, mt, mo / mt, (cohx.cpuNanos - cohxCpu0) / 1e9 / ours.size(), jaxCpu / theirs.size(),
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

    /** cohx's train step of one config, compiled once, state kept on the device between calls. */
    static final class CohxSide implements AutoCloseable {
        final long params;
        final Jit step;
        final Tree<ArrayType> types;
        Tree<Object> state;
        final NdArray hfTokens, ptTokens, masks;
        /** The original's AdamW schedule with its defaults, as the JAX side's optax schedule. */
        final LrSchedule schedule = LrSchedule.warmupCosine(0, 0.01, 2000, 500000, 0.001);
        double loss;
        int stepNo;
        long cpuNanos;

        CohxSide(Config c, Options opt, PjrtClient client) {
            ModelConfig mc = ModelConfigs.resolve("debug", "llama").withUpdates(Map.of("hidden_size", c.hidden(), "intermediate_size",
                    c.intermediate(), "num_hidden_layers", c.layers(), "num_attention_heads", c.heads(), "vocab_size", 32000,
                    "max_sequence_length", Math.max(2048, opt.seq())), "JaxBench");
            CausalLm model = CausalLm.of(mc);
            params = model.paramTypes().values().stream().mapToLong(t -> t.shape().size()).sum();
            AdamW adamw = AdamW.defaults().withDecayMask(model::decays);
            DType dtype = opt.dtype().equals("bf16") ? DType.BF16 : DType.F32;
            boolean remat = switch (opt.remat()) {
                case "none" -> false;
                case "nothing_saveable" -> true;
                default -> throw new IllegalArgumentException("JaxBench: --remat " + opt.remat() + ": use none or nothing_saveable");
            };
            var ts = new TrainStep(model, adamw, 1, 0.01, true, 1, dtype, 0, 0, remat, 42, false);
            try (Jit init = Jit.builder("init", ts.initFunction()).build(client)) {
                Tree<DeviceArray> p = init.call(Tree.empty());
                state = Tree.<Object>empty().nest("params", p).nest("opt", adamw.init(model.paramTypes()));
            }
            step = Jit.builder("train_step", ts.function()).donate("params", "opt").build(client);
            var rnd = new Random(42);
            hfTokens = tokens(rnd, opt, mc.vocabSize());
            ptTokens = tokens(rnd, opt, mc.vocabSize());
            float[] m = new float[opt.batch() * opt.seq()];
            java.util.Arrays.fill(m, 1f);
            masks = NdArray.of(m, 1, opt.batch(), opt.seq());
            types = Tree.<ArrayType>empty().nest("params", model.paramTypes())
                    .nest("opt", adamw.init(model.paramTypes()).map(NdArray::type))
                    .with("hf.tokens", hfTokens.type()).with("hf.masks", masks.type())
                    .with("pt.tokens", ptTokens.type()).with("pt.masks", masks.type())
                    .with("lr", ArrayType.of(DType.F32)).with("step", ArrayType.of(DType.S32));
        }

        private static NdArray tokens(Random rnd, Options opt, int vocab) {
            int[] t = new int[opt.batch() * opt.seq()];
            for (int i = 0; i < t.length; i++) {
                t[i] = rnd.nextInt(vocab);
            }
            return NdArray.of(t, 1, opt.batch(), opt.seq());
        }

        /** Runs {@code n} steps; the seconds of each, loss read back to the host as the trainer does. */
        List<Double> steps(int n) {
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            long cpu0 = os.getProcessCpuTime();
            var times = new ArrayList<Double>();
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                Tree<Object> in = state.with("hf.tokens", hfTokens).with("hf.masks", masks).with("pt.tokens", ptTokens)
                        .with("pt.masks", masks).with("lr", NdArray.scalar(DType.F32, schedule.at(stepNo)))
                        .with("step", NdArray.scalar(DType.S32, stepNo++));
                Tree<DeviceArray> out = step.call(in);
                loss = out.get("metrics.hf_loss").toHost().get(0);
                out.subtree("metrics").values().forEach(DeviceArray::close);
                state = Tree.<Object>empty().nest("params", out.subtree("params")).nest("opt", out.subtree("opt"));
                times.add((System.nanoTime() - t0) / 1e9);
            }
            cpuNanos += os.getProcessCpuTime() - cpu0;
            return times;
        }

        MemoryReport memory() {
            return step.memoryReport(types);
        }

        @Override
        public void close() {
            state.values().forEach(x -> {
                if (x instanceof DeviceArray d) {
                    d.close();
                }
            });
            step.close();
        }
    }

    static double median(List<Double> xs) {
        var s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
