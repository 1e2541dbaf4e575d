package io.cohx.serve;

import io.cohx.engine.mesh.Mesh;
import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Sampling;
import io.cohx.models.generate.Scorer;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.models.tokenizer.Tokenizers;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Serving on a mesh with the training partition rules: the same model (same seed) on one CPU
 * device and on 1,1,2 and 1,1,8 meshes (tensor parallel over mp) gives the same greedy tokens
 * for requests decoded together with continuous batching, and the same log-likelihoods. The
 * vocabulary is padded to 50304 so the embedding and head split over 8.
 */
class MeshServingTest {
    static final String MODEL = "hidden_size=64,intermediate_size=128,num_hidden_layers=2,num_attention_heads=4,vocab_size=50304";

    record Outputs(List<int[]> tokens, List<Double> logLikelihoods) {}

    static Outputs serve(PjrtClient client, String meshDim, Tokenizer tok) {
        ServeOptions o = ServeOptions.defaults().withLengths(16, 48, 4).withServer(0, 16, List.of("none"));
        Mesh mesh = Mesh.parse(meshDim, client.addressableDevices());
        String[] prompts = {"The cat sat on the", "Hello, my name is", "One two three four five six seven eight nine ten", "Why"};
        try (TestModel model = TestModel.random("llama", "debug", MODEL, 9, client);
             var worker = new ModelWorker(model.model(), model.params(), tok, client, mesh, o, new PrintStream(PrintStream.nullOutputStream()))) {
            List<Generator.Request> rows = new ArrayList<>();
            for (String p : prompts) {
                int[] ids = tok.encode(p);
                int[] withBos = new int[ids.length + 1];
                withBos[0] = tok.bosId();
                System.arraycopy(ids, 0, withBos, 1, ids.length);
                rows.add(new Generator.Request(withBos, 12, Sampling.GREEDY));
            }
            List<int[]> tokens = worker.generate(rows).stream().map(Generator.Result::tokens).toList();
            List<Double> ll = worker.score(List.of(Scorer.Row.continuation(tok.bosId(), tok.encode("The cat sat"), tok.encode(" on the mat"))))
                    .stream().map(Scorer.Scored::logLikelihood).toList();
            return new Outputs(tokens, ll);
        }
    }

    @Test
    void oneOneTwoAndOneOneEightMeshesGiveTheOneDeviceOutputs() {
        Tokenizer tok = Tokenizers.load("gpt2");
        Outputs one = serve(TestPlugins.cpuClient(1), "1,1,1", tok);
        for (String dims : new String[] {"1,1,2", "1,1,8"}) {
            int devices = Arrays.stream(dims.split(",")).mapToInt(Integer::parseInt).reduce(1, (a, b) -> a * b);
            Outputs mesh = serve(TestPlugins.cpuClient(devices), dims, tok);
            for (int i = 0; i < one.tokens().size(); i++) {
                assertArrayEquals(one.tokens().get(i), mesh.tokens().get(i), "request " + i + " on mesh " + dims);
            }
            assertEquals(one.logLikelihoods().getFirst(), mesh.logLikelihoods().getFirst(), 1e-3, "log-likelihood on mesh " + dims);
        }
    }
}
