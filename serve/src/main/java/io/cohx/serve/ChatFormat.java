package io.cohx.serve;

import io.cohx.models.tokenizer.ChatTemplate;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.models.tokenizer.TokenizerException;

import java.util.List;

/**
 * How {@code /v1/chat/completions} (and so the chat page) turns a message list into the tokens
 * the model continues, and what ends the model's turn: the model's own chat template
 * ({@link Template}: ChatML, Llama 2/3, ... from the GGUF file, the tokenizer folder or
 * {@code --chat-template}), or, for a model without one, the original CoH chat ({@link Coh}).
 */
sealed interface ChatFormat {

    /**
     * The prompt tokens for {@code messages}, ready for the model to write the assistant's turn.
     * {@code lmPrefix} is the CoH feedback phrase of this request (templates ignore it). Throws
     * {@link BadRequest} for messages the format cannot place (an unknown role, a template that
     * refuses the conversation).
     */
    int[] tokens(List<ChatTemplate.Message> messages, String lmPrefix);

    /** Strings that end the assistant's turn (the next turn starting, or a textual end marker). */
    List<String> stops();

    /** Token ids that end the turn besides eos (a template's end-of-turn control token). */
    int[] endTokens();

    /** What the chat page and the start-up line call this format. */
    String describe();

    /**
     * The original CoH chat: turns joined with the chat prefixes and suffixes of {@code o},
     * ending with the feedback phrase the answer follows ({@code --chat-lm-prefix}, or the
     * request's {@code lm_prefix}); the tokenizer's bos in front with {@code --add-bos-token}.
     */
    record Coh(ServeOptions o, Prompts prompts) implements ChatFormat {
        @Override
        public int[] tokens(List<ChatTemplate.Message> messages, String lmPrefix) {
            var sb = new StringBuilder(o.chatPrependText());
            for (ChatTemplate.Message m : messages) {
                switch (m.role()) {
                    case "system", "developer" -> sb.append(m.content()).append('\n');
                    case "user" -> sb.append(o.chatUserPrefix()).append(m.content()).append(o.chatUserSuffix());
                    case "assistant" -> sb.append(lmPrefix).append(m.content().startsWith(" ") ? "" : " ").append(m.content())
                            .append(o.chatLmSuffix());
                    default -> throw new BadRequest("messages", "unknown role '" + m.role() + "'; use system, user or assistant");
                }
            }
            int[] t = prompts.encode(sb.append(lmPrefix).toString());
            int bos = prompts.bos();
            if (bos < 0) {
                return t;
            }
            int[] r = new int[t.length + 1];
            r[0] = bos;
            System.arraycopy(t, 0, r, 1, t.length);
            return r;
        }

        @Override
        public List<String> stops() {
            // The model's next "User:" turn ends its answer, as in the original chat.
            return o.chatUserPrefix().isBlank() ? List.of() : List.of(o.chatUserPrefix().strip());
        }

        @Override
        public int[] endTokens() {
            return new int[0];
        }

        @Override
        public String describe() {
            return "coh";
        }
    }

    /**
     * The model's chat template, rendered as Hugging Face's {@code apply_chat_template} does (with
     * the generation prompt; the template writes bos itself) and encoded with special tokens
     * parsed, so its markup becomes the model's control tokens. The turn ends where the template
     * ends an assistant message: that marker is an end token when it is one control token (e.g.
     * {@code <|im_end|>}, {@code <|eot_id|>}), a stop string otherwise.
     */
    record Template(ChatTemplate template, Tokenizer tokenizer, List<String> stops, int[] endTokens) implements ChatFormat {

        static Template of(ChatTemplate template, Tokenizer tokenizer) {
            String end = endOfTurn(template, tokenizer);
            if (end.isEmpty()) {
                return new Template(template, tokenizer, List.of(), new int[0]);
            }
            int[] ids = tokenizer.encode(end, Tokenizer.SpecialTokens.PARSE);
            if (ids.length == 1 && tokenizer.decode(ids).isEmpty()) {
                return new Template(template, tokenizer, List.of(), ids);
            }
            return new Template(template, tokenizer, List.of(end), new int[0]);
        }

        /** The text the template puts right after an assistant message's content, trimmed ("" if none or it cannot tell). */
        static String endOfTurn(ChatTemplate template, Tokenizer tokenizer) {
            String mark = "\u0001cohx-end-of-turn\u0001";
            String text;
            try {
                text = template.render(List.of(new ChatTemplate.Message("user", "hi"), new ChatTemplate.Message("assistant", mark)), false,
                        ChatTemplate.tokenVariables(tokenizer));
            } catch (TokenizerException e) {
                return "";
            }
            int at = text.indexOf(mark);
            return at < 0 ? "" : text.substring(at + mark.length()).strip();
        }

        @Override
        public int[] tokens(List<ChatTemplate.Message> messages, String lmPrefix) {
            String text;
            try {
                text = template.render(messages, true, ChatTemplate.tokenVariables(tokenizer));
            } catch (TokenizerException e) {
                throw new BadRequest("messages", "the model's " + e.getMessage());
            }
            return tokenizer.encode(text, Tokenizer.SpecialTokens.PARSE);
        }

        @Override
        public int[] endTokens() {
            return endTokens.clone();
        }

        @Override
        public String describe() {
            return "template";
        }
    }
}
