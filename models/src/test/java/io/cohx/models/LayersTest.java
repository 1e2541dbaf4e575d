package io.cohx.models;

import io.cohx.engine.ArrayType;
import io.cohx.engine.Autodiff;
import io.cohx.engine.DType;
import io.cohx.engine.Program;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.engine.mesh.PartitionRules;
import io.cohx.models.config.GptjConfig;
import io.cohx.models.config.LlamaConfig;
import io.cohx.models.params.ParamSpec;
import io.cohx.models.params.ParamTree;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pieces the golden files barely see: GPT-J's gelu_new (the tanh approximation, which moves
 * the golden logits by only ~1.6e-4 when swapped for the exact erf form), and the model
 * descriptions the trainer reads (parameter types, weight decay, partition rules, option errors).
 */
class LayersTest {

    @Test
    void geluNewIsTheTanhApproximation() {
        // jax.nn.gelu(x, approximate=True) in float64 (jax 0.4.35), an independent implementation.
        double[] x = {-3.0, -1.5, -0.5, 0.7, 1.0, 2.0};
        double[] expected = {-0.0036373920817729943, -0.10042842301976707, -0.15428599017485606,
                0.5305701347051167, 0.8411919906082768, 1.954597694087775};
        int n = 2001;
        double[] grid = new double[n];
        for (int i = 0; i < n; i++) {
            grid[i] = -6 + 12.0 * i / (n - 1);
        }
        Tree<NdArray> out = ModelRun.once("gelu", Tree.of("x", NdArray.of(DType.F64, x, x.length),
                "grid", NdArray.of(DType.F64, grid, n)), t -> {
            Tensor g = t.get("grid");
            Tensor exact = g.mul(0.5).mul(g.mul(1 / Math.sqrt(2)).erf().add(1.0));
            return Tree.of("known", Layers.geluNew(t.get("x")), "grid", Layers.geluNew(g), "exact", exact);
        });
        for (int i = 0; i < x.length; i++) {
            assertEquals(expected[i], out.get("known").get(i), 1e-12, "gelu_new(" + x[i] + ")");
        }
        double maxVsExact = ModelRun.maxAbsDiff(out.get("grid"), out.get("exact"));
        // The tanh form departs from the erf form by at most ~4.7e-4 (near |x| = 2.3).
        assertTrue(maxVsExact > 3e-4 && maxVsExact < 6e-4, "gelu_new vs exact gelu: " + maxVsExact);
    }

    @Test
    void paramTypesFollowTheCanonicalTree() {
        for (var config : new io.cohx.models.config.ModelConfig[] {LlamaConfig.preset("debug"), GptjConfig.preset("debug")}) {
            CausalLm lm = CausalLm.of(config);
            var specs = ParamTree.of(config).params();
            assertEquals(specs.stream().map(ParamSpec::path).toList(), lm.paramTypes().paths());
            for (ParamSpec p : specs) {
                assertEquals(DType.F32, lm.paramTypes().get(p.path()).dtype());
                assertEquals(p.numel(), lm.paramTypes().get(p.path()).shape().size(), p.path());
            }
            assertSame(config, lm.config());
        }
    }

    @Test
    void weightDecayAndPartitionRulesAreTheReferences() {
        CausalLm llama = CausalLm.of(LlamaConfig.preset("debug"));
        assertTrue(llama.paramTypes().paths().stream().allMatch(llama::decays), "LLaMA decays every parameter");
        assertSame(PartitionRules.LLAMA, llama.partitionRules());
        CausalLm gptj = CausalLm.of(GptjConfig.preset("debug"));
        assertSame(PartitionRules.GPTJ, gptj.partitionRules());
        for (String p : gptj.paramTypes().paths()) {
            boolean normOrBias = p.endsWith(".bias") || p.contains("ln_");
            assertEquals(!normOrBias, gptj.decays(p), p);
        }
        assertFalse(gptj.decays("transformer.h.1.ln_1.scale"));
        assertTrue(gptj.decays("transformer.wte.embedding"));
    }

    @Test
    void rematRecomputesEachBlockInTheBackwardPass() {
        LlamaConfig config = LlamaConfig.preset("debug");
        CausalLm lm = CausalLm.of(config);
        Tree<ArrayType> in = Tree.<ArrayType>empty().nest("params", lm.paramTypes())
                .with("ids", ArrayType.of(DType.S32, 1, 8));
        for (boolean remat : new boolean[] {false, true}) {
            var options = new ForwardOptions(DType.F32, false, null, 0, 0, remat);
            String mlir = Program.trace("grad", in, t -> Autodiff.grad(
                    p -> lm.logits(p, t.get("ids"), options).sum(), t.subtree("params"))).mlir();
            int barriers = mlir.split("stablehlo.optimization_barrier", -1).length - 1;
            assertEquals(remat ? config.numHiddenLayers() : 0, barriers, "remat " + remat + ": one recomputation per block");
        }
    }

    @Test
    void trainingRandomnessWithoutAKeyIsAnError() {
        CausalLm lm = CausalLm.of(LlamaConfig.preset("debug"));
        var noKey = new ForwardOptions(DType.F32, true, null, 0.1, 0.2, false);
        var e = assertThrows(IllegalArgumentException.class, () -> ModelRun.once("nokey",
                Tree.of("ids", NdArray.zeros(DType.S32, 1, 4)),
                t -> Tree.of("x", lm.logits(lm.init(io.cohx.engine.Rng.key(0)), t.get("ids"), noKey))));
        assertTrue(e.getMessage().contains("rngKey"), e.getMessage());
    }
}
