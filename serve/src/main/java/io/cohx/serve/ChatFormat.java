package io.cohx.serve;

import java.util.List;

/**
 * How {@code /v1/chat/completions} turns a message list into the text the model continues, and
 * which strings end the model's turn. The built-in {@link #coh} format is the original CoH chat:
 * turns joined with the chat prefixes and suffixes, ending with the feedback phrase the answer
 * follows ({@code --chat-lm-prefix}, or the request's {@code lm_prefix}).
 *
 * <p>This is the seam for tokenizer chat templates (ChatML, Llama 2/3): a format that renders
 * the messages with the model's template and stops at its end-of-turn marker plugs in here,
 * without touching the endpoint.
 */
public interface ChatFormat {

    /** One chat message. */
    record Message(String role, String content) {}

    /**
     * The prompt text for {@code messages}, ready for the model to write the assistant's turn.
     * {@code lmPrefix} is the CoH feedback phrase of this request (formats without one ignore it).
     * Throws {@link BadRequest} for a message it cannot place (e.g. an unknown role).
     */
    String prompt(List<Message> messages, String lmPrefix);

    /** Strings that end the assistant's turn (the next turn starting). */
    List<String> stops();

    /** The original CoH chat format of {@code o}'s chat options. */
    static ChatFormat coh(ServeOptions o) {
        return new ChatFormat() {
            @Override
            public String prompt(List<Message> messages, String lmPrefix) {
                var sb = new StringBuilder(o.chatPrependText());
                for (Message m : messages) {
                    switch (m.role()) {
                        case "system", "developer" -> sb.append(m.content()).append('\n');
                        case "user" -> sb.append(o.chatUserPrefix()).append(m.content()).append(o.chatUserSuffix());
                        case "assistant" -> sb.append(lmPrefix).append(m.content().startsWith(" ") ? "" : " ").append(m.content())
                                .append(o.chatLmSuffix());
                        default -> throw new BadRequest("messages", "unknown role '" + m.role() + "'; use system, user or assistant");
                    }
                }
                return sb.append(lmPrefix).toString();
            }

            @Override
            public List<String> stops() {
                // The model's next "User:" turn ends its answer, as in the original chat.
                return o.chatUserPrefix().isBlank() ? List.of() : List.of(o.chatUserPrefix().strip());
            }
        };
    }
}
