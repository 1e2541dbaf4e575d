package io.cohx.cli;

import io.cohx.coh.train.ServedModel;
import io.cohx.models.tokenizer.ChatTemplate;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.models.tokenizer.TokenizerException;
import io.cohx.models.tokenizer.Tokenizers;
import io.cohx.pjrt.PjrtClient;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** Which model and tokenizer {@code cohx serve} and {@code cohx generate} run: a checkpoint, or random weights of a config. */
final class ModelOptions {
    @Option(names = "--load-checkpoint", paramLabel = "KIND::PATH",
            description = "params::DIR (a cohx checkpoint, or a cohx train output folder: its latest checkpoint), trainstate::DIR, "
                    + "trainstate_params::DIR, hf::DIR (Hugging Face folder) or gguf::FILE (llama.cpp GGUF). Without it: random weights of --model/--model-config.")
    String loadCheckpoint;
    @Option(names = "--model", defaultValue = "llama", description = "llama or gptj, for random weights (default: ${DEFAULT-VALUE}).")
    String model;
    @Option(names = "--model-config", defaultValue = "debug", paramLabel = "PRESET|FILE",
            description = "Preset or config JSON, for random weights (default: ${DEFAULT-VALUE}).")
    String modelConfig;
    @Option(names = "--update-model-config", paramLabel = "K=V,...", description = "Changes to that config, e.g. vocab_size=50257.")
    String updateModelConfig;
    @Option(names = "--seed", defaultValue = "42", description = "Seed of random weights, and of sampling (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--tokenizer", paramLabel = "FILE|NAME",
            description = "tokenizer.model / tokenizer.json / folder, or gpt2, gptj (default: gptj for gptj models; the checkpoint folder if it has one).")
    String tokenizer;

    /** Folders that may hold the model's tokenizer_config.json: --tokenizer's (or its folder), then an hf:: checkpoint's. */
    List<Path> tokenizerFolders() {
        var out = new ArrayList<Path>();
        if (tokenizer != null && !tokenizer.equals("gpt2") && !tokenizer.equals("gptj")) {
            Path p = Path.of(tokenizer);
            out.add(Files.isDirectory(p) ? p : p.toAbsolutePath().getParent());
        }
        if (hfFolder() != null) out.add(hfFolder());
        return out;
    }

    /**
     * The model's chat template: {@code flag} ({@code --chat-template NAME|FILE}) when given, else
     * the one that came with the weights (a GGUF file's {@code tokenizer.chat_template}, or a
     * checkpoint converted from one), else a tokenizer_config.json beside {@code --tokenizer} or in
     * the hf:: folder; empty when the model has none.
     */
    Optional<ChatTemplate> chatTemplate(ServedModel m, String flag) {
        try {
            if (flag != null) return Optional.of(ChatTemplate.load(flag));
        } catch (TokenizerException e) {
            throw new CohxUserError("--chat-template " + e.getMessage(), e);
        }
        try {
            if (m.tokenizer() != null && m.tokenizer().chatTemplate() != null) {
                return Optional.of(ChatTemplate.parse(m.tokenizer().chatTemplate()));
            }
            for (Path folder : tokenizerFolders()) {
                var t = ChatTemplate.fromFolder(folder);
                if (t.isPresent()) return t;
            }
        } catch (TokenizerException e) {
            throw new CohxUserError(m.source() + ": the model's chat template: " + e.getMessage()
                    + "; pass --chat-template with one of " + String.join(", ", ChatTemplate.BUILT_IN) + " or a template file", e);
        }
        return Optional.empty();
    }

    private Path hfFolder() {
        return loadCheckpoint != null && loadCheckpoint.startsWith("hf::") ? Path.of(loadCheckpoint.substring(4)) : null;
    }

    private static boolean hasTokenizer(Path dir) {
        return Files.isRegularFile(dir.resolve("tokenizer.model")) || Files.isRegularFile(dir.resolve("tokenizer.json"))
                || Files.isRegularFile(dir.resolve("vocab.json"));
    }

    ServedModel load(PjrtClient client) {
        try {
            return ServedModel.load(loadCheckpoint, model, modelConfig, updateModelConfig, seed, client);
        } catch (IllegalArgumentException e) {
            throw new CohxUserError(e.getMessage(), e);
        }
    }

    /** Whether the tokenizer is the one that came with the weights (a GGUF file, or a checkpoint converted from one). */
    private boolean bundled(ServedModel m) {
        Path hf = hfFolder();
        return tokenizer == null && !(hf != null && hasTokenizer(hf)) && m.tokenizer() != null;
    }

    /**
     * Whether prompts start with bos unless a flag says otherwise: what the vocabulary that came with
     * the weights says (GGUF's add_bos_token: false for SmolLM2 and other byte-level BPE models),
     * else true, as LLaMA's SentencePiece tokenizers expect.
     */
    boolean addsBos(ServedModel m) {
        return !bundled(m) || m.tokenizer().vocabulary().addBos();
    }

    /**
     * Starts loading the tokenizer on another thread when it does not depend on the weights
     * ({@code --tokenizer} given), so that it overlaps starting the plugin and loading the model
     * (a GPT-2 vocabulary takes most of a second to read); {@link #tokenizer(ServedModel, CompletableFuture)}
     * takes it up. Null when the tokenizer has to wait for the weights.
     */
    CompletableFuture<Tokenizer> tokenizerEarly() {
        return tokenizer == null ? null : CompletableFuture.supplyAsync(() -> tokenizer(null));
    }

    /** The tokenizer that {@link #tokenizerEarly()} started, or else as {@link #tokenizer(ServedModel)}. */
    Tokenizer tokenizer(ServedModel m, CompletableFuture<Tokenizer> early) {
        if (early == null) {
            return tokenizer(m);
        }
        try {
            return early.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    Tokenizer tokenizer(ServedModel m) {
        if (tokenizer != null) {
            try {
                return Tokenizers.load(tokenizer);
            } catch (TokenizerException e) {
                throw new CohxUserError("--tokenizer: " + e.getMessage(), e);
            }
        }
        Path hf = hfFolder();
        if (hf != null && hasTokenizer(hf)) return Tokenizers.load(hf);
        if (bundled(m)) {
            // The vocabulary came with the weights (a GGUF file, or a checkpoint converted from one).
            try {
                return Tokenizers.fromVocabulary(m.tokenizer().vocabulary(), m.source());
            } catch (TokenizerException e) {
                throw new CohxUserError(e.getMessage() + "; pass --tokenizer with the model's tokenizer.json / tokenizer.model", e);
            }
        }
        if (m.model().config().modelType().equals("gptj")) {
            return Tokenizers.load("gptj");
        }
        throw new CohxUserError("--tokenizer is required for llama: the tokenizer.model of the weights (or gpt2 for a model trained with it,"
                + " like the demo's)");
    }
}
