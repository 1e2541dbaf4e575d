package io.cohx.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.engine.DType;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.SafetensorsReader;
import io.cohx.models.gguf.GgufReader;
import io.cohx.models.testdata.GgufReference;
import io.cohx.models.testdata.TestModels;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.cohx.cli.PluginsCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real SmolLM2-135M-Instruct GGUF through the commands a user types: {@code cohx generate}
 * takes config, weights and tokenizer from the file and respects its vocabulary's
 * add_bos_token = false (the continuation equals the independent reference's greedy tokens);
 * {@code cohx train} runs one CoH step from it in f32 and in bf16 with neither --model-config nor
 * --tokenizer; each run's checkpoint exports with {@code cohx convert cohx-to-gguf} (F32 and Q8_0)
 * and the {@code gguf} package reads the same tensors back (tools/reference/gguf_reference.py
 * check-export: F32 bit for bit, Q8_0 the reference quantizer's bytes).
 */
class SmolLm2CommandsTest {
    static final Path REFERENCE = Path.of("../models/src/test/resources/gguf/smollm2-reference.json");

    @Test
    void generateTakesTheTokenizerFromTheFileAndAddsNoBos() throws IOException {
        JsonNode first = new ObjectMapper().readTree(REFERENCE.toFile()).get("prompts").get(0);
        assertEquals("The capital of France is", first.get("text").asText());
        var r = run("generate", "--load-checkpoint", "gguf::" + TestModels.smolLm2(), "--prompt", first.get("text").asText(),
                "--max-new-tokens", "16");
        assertEquals(0, r.rc(), r.out() + r.err());
        System.out.println("{\"test\":\"smollm2_generate\",\"text\":" + new ObjectMapper().writeValueAsString(r.out()) + "}");
        // Greedy, no bos (the vocabulary says add_bos_token false): the reference's 16 tokens. With the bos id
        // (1, <|im_start|>) in front the model continues differently.
        assertEquals(first.get("greedy_text").asText(), r.out().substring(0, r.out().length() - 1));
    }

    @Test
    @Tag("slow")
    void oneCohStepInF32AndBf16ExportsToGgufThatTheReferenceReadsBack(@TempDir Path dir) throws IOException {
        String line = "{\"marker_user\": \"User:\", \"human_0\": \"How do I boil an egg?\", \"marker_gpt\": \"A helpful answer:\","
                + " \"gpt_1\": \"Put it in boiling water for nine minutes, then cool it in cold water.\","
                + " \"fields\": \"[marker_user+human_0+marker_gpt],gpt_1,<|eos|>\"}\n";
        Path feedback = Files.writeString(dir.resolve("feedback.jsonl"), line.repeat(8));
        Path smol = TestModels.smolLm2();
        for (var c : List.of(new String[] {"fp32", "f32"}, new String[] {"bf16", "q8_0"})) {
            String dtype = c[0], outtype = c[1];
            Path out = dir.resolve("run-" + dtype);
            var t = run("train", "--load-checkpoint", "gguf::" + smol, "--train-data", feedback.toString(), "--dtype", dtype,
                    "--total-steps", "1", "--seq-length", "64", "--batch-size", "1", "--init-lr", "1e-4", "--lr", "1e-4",
                    "--log-freq", "1", "--output-dir", out.toString());
            assertEquals(0, t.rc(), t.out() + t.err());
            JsonNode m = new ObjectMapper().readTree(Files.readAllLines(out.resolve("metrics.jsonl")).getFirst());
            double loss = m.get("hf_loss").asDouble();
            System.out.println("{\"test\":\"smollm2_train_step\",\"dtype\":\"" + dtype + "\",\"hf_loss\":" + loss + "}");
            // A pretrained model already predicts this English answer far better than uniform (ln 49152 = 10.8).
            assertTrue(loss > 0.1 && loss < 6, dtype + " loss " + loss);
            Path ckpt = out.resolve("checkpoints").resolve(Files.readString(out.resolve("checkpoints/LATEST")).strip());
            assertTrue(Files.isRegularFile(ckpt.resolve("vocabulary.json")) && Files.isRegularFile(ckpt.resolve("chat_template.jinja")),
                    "the run keeps the file's tokenizer");
            assertNotEquals(-1L, mismatch(ckpt, smol), "the step moved the weights");

            Path gguf = dir.resolve("smollm2-" + dtype + "." + outtype + ".gguf");
            var x = run("convert", "cohx-to-gguf", ckpt.toString(), gguf.toString(), "--outtype", outtype);
            assertEquals(0, x.rc(), x.out() + x.err());
            JsonNode check = new ObjectMapper().readTree(GgufReference.run("check-export", ckpt.toString(), gguf.toString()));
            System.out.println("{\"test\":\"smollm2_export\",\"dtype\":\"" + dtype + "\",\"check\":" + check + "}");
            assertEquals(272, check.get("tensors").asInt());
            // F32 export: every tensor F32. Q8_0 export: the 2-D weights Q8_0, the 61 norm vectors stay F32 (as llama.cpp does).
            assertEquals(outtype.equals("f32") ? Map.of("F32", 272) : Map.of("F32", 61, "Q8_0", 211),
                    new ObjectMapper().convertValue(check.get("types"), new TypeReference<Map<String, Integer>>() {}));
            Files.delete(gguf);
            deleteTree(out); // a SmolLM2 train state is 1.6 GB; keep the temp disk small for the next run
        }
    }

    /** Where the trained final norm first differs from the GGUF file's (-1: identical). */
    private static long mismatch(Path ckpt, Path gguf) {
        try (var a = SafetensorsReader.open(ckpt.resolve("params.safetensors")); var g = GgufReader.open(gguf);
             Arena arena = Arena.ofConfined()) {
            HostTensor trained = a.read("transformer.ln_f.kernel", arena);
            HostTensor original = g.read("output_norm.weight", DType.F32, arena);
            return trained.data().mismatch(original.data());
        }
    }

    private static void deleteTree(Path p) throws IOException {
        try (var walk = Files.walk(p)) {
            for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }
}
