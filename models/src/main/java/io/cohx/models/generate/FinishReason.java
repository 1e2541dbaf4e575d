package io.cohx.models.generate;

/** Why a row stopped: the token budget or the cache ran out, a stop string, the eos token, or the caller cancelled it. */
public enum FinishReason {
    LENGTH, STOP, EOS, CANCELLED;

    /** The OpenAI API's {@code finish_reason}: {@code length} or {@code stop}. */
    public String openAi() {
        return this == LENGTH ? "length" : "stop";
    }
}
