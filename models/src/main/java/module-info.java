/**
 * GPT-J and LLaMA models over the engine, their configs, checkpoints (safetensors, GGUF, the
 * original streaming format), conversions, tokenizers and generation. The two architectures
 * ({@code io.cohx.models.gptj}, {@code io.cohx.models.llama}) are reached through
 * {@code CausalLm}; the chat-template interpreter ({@code io.cohx.models.tokenizer.jinja}) through
 * {@code ChatTemplate}; the generated SentencePiece protobuf ({@code io.cohx.models.tokenizer.proto})
 * through the tokenizer loaders.
 */
module io.cohx.models {
    requires transitive io.cohx.engine;
    requires com.fasterxml.jackson.databind;
    requires com.google.protobuf;
    // Automatic modules named from their jar files (no descriptor, no Automatic-Module-Name).
    requires jtokkit;
    requires msgpack.core;
    requires pickle;

    exports io.cohx.models;
    exports io.cohx.models.checkpoint;
    exports io.cohx.models.config;
    exports io.cohx.models.convert;
    exports io.cohx.models.generate;
    exports io.cohx.models.gguf;
    // A model's parameter tree (paths, shapes, Hugging Face names), which ParamInit takes.
    exports io.cohx.models.params;
    exports io.cohx.models.tokenizer;
}
