package io.cohx.eval;

import io.cohx.coh.train.ServedModel;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.models.CausalLm;
import io.cohx.models.ForwardOptions;
import io.cohx.models.tokenizer.Tokenizers;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;

import java.util.Arrays;

/**
 * A small random LLaMA (2 layers, hidden 64, GPT-2 vocabulary and tokenizer) on the real CPU
 * plugin, shared by the evaluation tests, and an independent way to get its log-probabilities:
 * one full forward pass and a log-softmax, without the scorer or the server.
 */
final class TinyModel {
    static final String UPDATES = "hidden_size=64,intermediate_size=128,num_hidden_layers=2,num_attention_heads=2,vocab_size=50257";
    /** The scored length of the tests: one compiled program per power of two from 16 to this. */
    static final int SEQ = 128;
    private static EvalModel model;
    private static SequenceScorer scorer;
    private static Jit direct;

    private TinyModel() {}

    static synchronized EvalModel get() {
        if (model == null) {
            PjrtClient client = TestPlugins.cpuClient(1);
            ServedModel m = ServedModel.load(null, "llama", "debug", UPDATES, 7, client);
            model = new EvalModel(m.model(), m.params(), Tokenizers.load("gpt2"), client, DType.F32, m.source());
        }
        return model;
    }

    /** A scorer shared by the tests (its programs compile once per test JVM). */
    static synchronized SequenceScorer scorer() {
        if (scorer == null) {
            scorer = new SequenceScorer(get(), SEQ, 4, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        }
        return scorer;
    }

    /** {@code log p(ids[i] | bos, ids[..i])} for every i, by one forward pass over {@code [bos] + ids[:-1]}. */
    static double[] tokenLogprobs(int[] ids) {
        EvalModel m = get();
        CausalLm lm = m.model();
        int n = ids.length;
        int width = SEQ;
        int[] in = new int[width];
        in[0] = m.bos();
        System.arraycopy(ids, 0, in, 1, n - 1);
        synchronized (TinyModel.class) {
            if (direct == null) {
                direct = Jit.builder("direct", t -> Tree.of("lp", lm.logits(t.subtree("params"), t.get("ids"), ForwardOptions.EVAL)
                        .logSoftmax(2))).build(m.client());
            }
        }
        {
            Tree<DeviceArray> out = direct.call(Tree.<Object>empty().nest("params", m.params()).with("ids", NdArray.of(in, 1, width)));
            float[] flat = out.get("lp").toHost().toFloatArray();
            out.values().forEach(DeviceArray::close);
            int v = lm.config().vocabSize();
            double[] r = new double[n];
            for (int i = 0; i < n; i++) {
                r[i] = flat[i * v + ids[i]];
            }
            return r;
        }
    }

    static double sum(double[] lp, int from, int to) {
        return Arrays.stream(lp, from, to).sum();
    }

    static int[] concat(int[]... parts) {
        int[] r = new int[0];
        for (int[] p : parts) {
            int at = r.length;
            r = Arrays.copyOf(r, at + p.length);
            System.arraycopy(p, 0, r, at, p.length);
        }
        return r;
    }
}
