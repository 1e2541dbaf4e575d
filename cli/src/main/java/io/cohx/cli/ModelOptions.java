package io.cohx.cli;

import io.cohx.coh.train.ServedModel;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.models.tokenizer.Tokenizers;
import io.cohx.pjrt.PjrtClient;
import picocli.CommandLine.Option;

/** Which model and tokenizer {@code cohx serve} and {@code cohx generate} run: a checkpoint, or random weights of a config. */
final class ModelOptions {
    @Option(names = "--load-checkpoint", paramLabel = "KIND::PATH",
            description = "params::DIR (a cohx checkpoint, or a cohx train output folder: its latest checkpoint), trainstate::DIR, "
                    + "trainstate_params::DIR or hf::DIR (Hugging Face folder). Without it: random weights of --model/--model-config.")
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

    ServedModel load(PjrtClient client) {
        try {
            return ServedModel.load(loadCheckpoint, model, modelConfig, updateModelConfig, seed, client);
        } catch (IllegalArgumentException e) {
            throw new CohxUserError(e.getMessage(), e);
        }
    }

    Tokenizer tokenizer(ServedModel m) {
        if (tokenizer != null) {
            return Tokenizers.load(tokenizer);
        }
        if (m.model().config().modelType().equals("gptj")) {
            return Tokenizers.load("gptj");
        }
        throw new CohxUserError("--tokenizer is required for llama: the tokenizer.model of the weights (or gpt2 for a model trained with it,"
                + " like the demo's)");
    }
}
