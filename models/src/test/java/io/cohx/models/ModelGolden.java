package io.cohx.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.engine.DType;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.SafetensorsReader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * One model's golden files (tools/reference/make_model_goldens.py): the Hugging Face folder
 * loaded into the canonical tree, the batch, the reference logits and the reference loss.
 */
record ModelGolden(HfWeights.Loaded model, NdArray tokens, NdArray inputIds, NdArray masks, NdArray logits,
                   NdArray logitsBf16, JsonNode json) {

    static Path folder(String model) {
        try {
            return Path.of(ModelGolden.class.getResource("/golden/" + model).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static ModelGolden load(String model) {
        Path dir = folder(model);
        HfWeights.Loaded loaded = HfWeights.load(dir);
        try (SafetensorsReader r = SafetensorsReader.open(dir.resolve("golden.safetensors"));
             Arena arena = Arena.ofConfined()) {
            return new ModelGolden(loaded, ints(r.read("tokens", arena)), ints(r.read("input_ids", arena)),
                    floats(r.read("loss_masks", arena)), floats(r.read("logits", arena)),
                    floats(r.read("logits_bf16", arena)), new ObjectMapper().readTree(dir.resolve("golden.json").toFile()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int[] dims(HostTensor t) {
        long[] s = t.shape();
        int[] d = new int[s.length];
        for (int i = 0; i < s.length; i++) {
            d[i] = (int) s[i];
        }
        return d;
    }

    private static NdArray ints(HostTensor t) {
        double[] v = new double[(int) t.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = t.getDouble(i);
        }
        return NdArray.of(DType.S32, v, dims(t));
    }

    private static NdArray floats(HostTensor t) {
        return NdArray.of(t.toFloats(), dims(t));
    }

    CausalLm lm() {
        return CausalLm.of(model.config());
    }

    Tree<NdArray> params() {
        return model.params();
    }

    double f32(String field) {
        return json.get("f32").get(field).asDouble();
    }

    double tolerance(String field) {
        return json.get("tolerances").get(field).asDouble();
    }

    int bos() {
        return json.get("bos_id").asInt();
    }
}
