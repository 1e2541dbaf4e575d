package io.cohx.models.config;

import java.util.Map;

/**
 * The configuration of one of the models cohx trains. Both kinds are records with the reference
 * trainer's key names in their JSON form ({@link #toMap()}), so a config written by the original
 * CoH code and one written by cohx read the same way.
 */
public sealed interface ModelConfig permits LlamaConfig, GptjConfig {

    /** {@code llama} or {@code gptj}, as in Hugging Face's {@code model_type}. */
    String modelType();

    int vocabSize();

    int hiddenSize();

    int numLayers();

    int numHeads();

    /** Size of each attention head. */
    default int headDim() {
        return hiddenSize() / numHeads();
    }

    /** Key/value heads: {@link #numHeads()} for multi-head attention, fewer for grouped-query attention. */
    default int numKvHeads() {
        return numHeads();
    }

    int maxPositions();

    int bosTokenId();

    int eosTokenId();

    boolean tieWordEmbeddings();

    /** Dropout after the embedding, on residual branches and on attention weights (0 = off). */
    double embdPdrop();

    double residPdrop();

    double attnPdrop();

    /** Whether any dropout is on, so that a training step needs a random key. */
    default boolean hasDropout() {
        return embdPdrop() > 0 || residPdrop() > 0 || attnPdrop() > 0;
    }

    /** Re-compute each block in the backward pass (less memory, more compute), saving what {@link #rematPolicy()} names. */
    boolean gradientCheckpointing();

    String rematPolicy();

    /** Bounds of the forgetful causal mask's drop ratio; max 0 = off. */
    double fcmMinRatio();

    double fcmMaxRatio();

    /** Our JSON form: every key, in a fixed order, with {@code model_type} first. */
    Map<String, Object> toMap();

    /** The same config with {@code updates} applied (keys as in {@link #toMap()}); {@code source} names them in errors. */
    ModelConfig withUpdates(Map<String, ?> updates, String source);

    /** A Hugging Face {@code config.json} for this model with weights of {@code torchDtype} (e.g. "float32"). */
    Map<String, Object> toHfConfig(String torchDtype);
}
