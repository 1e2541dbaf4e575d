package io.cohx.coh.train;

import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.engine.mesh.Mesh;
import io.cohx.engine.optim.AdamW;
import io.cohx.models.CausalLm;
import io.cohx.models.config.GptjConfig;
import io.cohx.models.config.LlamaConfig;
import io.cohx.models.config.ModelConfig;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real train step ({@link TrainStep}: CoH loss, gradients, AdamW) of the debug LLaMA and
 * GPT-J (vocabulary cut to 256 to keep compiles short) run for K steps on each 8-device mesh
 * layout with the models' own partition rules, against the same steps on one device: losses,
 * gradient norms and parameters match. On 1,8,1 each device holds about 1/8 of the parameters. A
 * grouped-query LLaMA (2 key/value heads, tied) on the layouts whose mp splits whole key/value
 * heads; other mp values are refused by name.
 */
class MeshTrainStepTest {
    static final int B = 8, S = 16, K = 2;

    static PjrtClient client() {
        return TestPlugins.cpuClient(8);
    }

    static ModelConfig config(String model) {
        return switch (model) {
            case "llama" -> LlamaConfig.preset("debug").withUpdates(Map.of("vocab_size", 256, "bos_token_id", 1, "eos_token_id", 2), "test");
            case "llama-gqa" -> LlamaConfig.preset("debug").withUpdates(Map.of("vocab_size", 256, "bos_token_id", 1, "eos_token_id", 2,
                    "num_key_value_heads", 2, "tie_word_embeddings", true), "test");
            case "gptj" -> GptjConfig.preset("debug").withUpdates(Map.of("vocab_size", 256, "n_real_tokens", 256, "bos_token_id", 1,
                    "eos_token_id", 2), "test");
            default -> throw new IllegalArgumentException(model);
        };
    }

    /**
     * AdamW with eps 1e-3: at eps 1e-8 the first update is lr * sign(g), so an element whose
     * gradient is float noise flips by 2 lr between summation orders and the comparison says
     * nothing; a larger eps keeps the update a smooth function of the gradient.
     */
    static final AdamW OPT = new AdamW(0.9, 0.95, 1e-3, 1e-4, 1.0, false, p -> true);

    record Trained(double[] losses, double[] gradNorms, Tree<NdArray> params, long paramBytesPerDevice, long paramBytes) {}

    static final Map<String, Trained> REFERENCE = new HashMap<>();

    static Trained train(String model, String layout) {
        CausalLm lm = CausalLm.of(config(model));
        AdamW opt = OPT.withDecayMask(lm::decays);
        TrainStep program = TrainStep.of(lm, opt, s -> {
            s.bos = 1;
            s.seed = 5;
        });
        Tree<NdArray> params = initialParams(model, program);
        var b = program.jit("step_" + model + "_" + layout.replace(',', '_'));
        if (!layout.equals("1")) { // the trainer's layout: params and optimizer state by the model's rules, batches split on B
            Trainer.onMesh(b, Mesh.parse(layout, client().addressableDevices()), lm);
        }
        Random r = new Random(9);
        NdArray tokens = NdArray.zeros(DType.S32, 1, B, S);
        NdArray masks = NdArray.zeros(DType.F32, 1, B, S);
        for (int i = 0; i < B * S; i++) {
            tokens.set(i, 3 + r.nextInt(250));
            masks.set(i, (i % S) >= S / 4 ? 1 : 0);
        }
        Tree<Object> p = params.map(x -> x);
        Tree<Object> o = opt.init(lm.paramTypes()).map(x -> x);
        var batch = new StepIo.Batch<Object>(tokens, masks);
        double[] losses = new double[K];
        double[] norms = new double[K];
        long perDevice = 0;
        long total = 0;
        try (Jit step = b.build(client())) {
            for (int k = 0; k < K; k++) {
                var in = new StepIo.Inputs<Object>(p, o, batch, null, NdArray.scalar(DType.F32, 1e-2), NdArray.scalar(DType.S32, k));
                StepIo.Outputs<DeviceArray> out = StepIo.Outputs.from(step.call(in.toTree()));
                losses[k] = out.metrics().hfLoss().toHost().get(0);
                norms[k] = out.metrics().gradientNorm().toHost().get(0);
                out.metrics().toTree().values().forEach(DeviceArray::close);
                p = out.params().map(x -> x);
                o = out.opt().map(x -> x);
            }
            Tree<DeviceArray> finalParams = p.map(x -> (DeviceArray) x);
            for (DeviceArray d : finalParams.values()) {
                perDevice += d.bytesPerDevice();
                total += d.type().shape().size() * 4;
            }
            Tree<NdArray> host = finalParams.map(DeviceArray::toHost);
            finalParams.values().forEach(DeviceArray::close);
            o.values().forEach(x -> ((DeviceArray) x).close());
            assertTrue(step.compileCount() == 1, "one compile for " + layout);
            return new Trained(losses, norms, host, perDevice, total);
        }
    }

    static final Map<String, Tree<NdArray>> INIT = new HashMap<>();

    /** Fresh parameters from the program's seed, made once per model on one device. */
    static synchronized Tree<NdArray> initialParams(String model, TrainStep program) {
        return INIT.computeIfAbsent(model, m -> {
            try (Jit init = Jit.builder("init_" + m, program.initFunction()).build(client())) {
                Tree<DeviceArray> p = init.call(Tree.empty());
                Tree<NdArray> host = p.map(DeviceArray::toHost);
                p.values().forEach(DeviceArray::close);
                return host;
            }
        });
    }

    static synchronized Trained reference(String model) {
        return REFERENCE.computeIfAbsent(model, m -> train(m, "1"));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource({"llama, '8,1,1'", "llama, '1,8,1'", "llama, '1,1,8'", "llama, '2,2,2'", "llama, '1,4,2'",
            "gptj, '8,1,1'", "gptj, '1,8,1'", "gptj, '1,1,8'", "gptj, '2,2,2'", "gptj, '1,4,2'",
            "llama-gqa, '2,2,2'", "llama-gqa, '1,4,2'"})
    void trainStepMatchesOneDevice(String model, String layout) {
        Trained want = reference(model);
        Trained got = train(model, layout);
        for (int k = 0; k < K; k++) {
            assertRel(want.losses()[k], got.losses()[k], model + " on " + layout + ": hf_loss of step " + k);
            assertRel(want.gradNorms()[k], got.gradNorms()[k], model + " on " + layout + ": gradient norm of step " + k);
        }
        assertTrue(want.losses()[K - 1] < want.losses()[0], model + " learns on one device");
        Tree<NdArray> init = INIT.get(model);
        for (String p : want.params().paths()) {
            double[] a = want.params().get(p).toDoubleArray();
            double[] c = got.params().get(p).toDoubleArray();
            double[] a0 = init.get(p).toDoubleArray();
            double scale = 0;
            double update = 0;
            double worst = 0;
            for (int i = 0; i < a.length; i++) {
                scale = Math.max(scale, Math.abs(a[i]));
                update = Math.max(update, Math.abs(a[i] - a0[i]));
                worst = Math.max(worst, Math.abs(a[i] - c[i]));
            }
            assertTrue(update > 0, p + " was updated");
            assertTrue(worst <= 1e-5 * scale, model + " on " + layout + ": " + p + " differs by " + worst
                    + " (largest |value| " + scale + ", largest update " + update + ")");
        }
        if (layout.equals("1,8,1")) {
            assertTrue(got.paramBytesPerDevice() < got.paramBytes() / 8 * 1.05,
                    model + ": FSDP keeps " + got.paramBytesPerDevice() + " of " + got.paramBytes() + " parameter bytes per device");
        }
    }

    @org.junit.jupiter.api.Test
    void groupedQueryHeadsMustSplitWholeOverMp() {
        CausalLm gqa = CausalLm.of(config("llama-gqa"));
        var devices = client().addressableDevices();
        gqa.checkMesh(Mesh.parse("1,4,2", devices));
        var e = org.junit.jupiter.api.Assertions.assertThrows(io.cohx.engine.mesh.MeshException.class,
                () -> gqa.checkMesh(Mesh.parse("1,2,4", devices)));
        assertTrue(e.getMessage().contains("2 key/value heads") && e.getMessage().contains("mp = 4")
                && e.getMessage().contains("use an mp that divides 2"), e.getMessage());
        CausalLm.of(config("llama")).checkMesh(Mesh.parse("1,1,8", devices)); // multi-head: as the reference
    }

    static void assertRel(double want, double got, String what) {
        assertTrue(Math.abs(want - got) <= 1e-5 * Math.abs(want), what + " is " + got + ", one device gives " + want);
    }
}
