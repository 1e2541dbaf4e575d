package io.cohx.coh.data;

import java.util.List;

/**
 * The natural-language feedback of the {@code aux} feedback type and the task phrases, per
 * dataset, as the Chain of Hindsight reference uses them (docs/COH.md#feedback-types). A table, not code:
 * {@code good.get(i)} pairs with {@code bad.get(i)}; {@code tasks} is what one random choice picks
 * from before a summary post or a WebGPT quote list (empty for dialogue).
 */
public record FeedbackPhrases(List<String> good, List<String> bad, List<String> tasks) {

    public FeedbackPhrases {
        if (good.size() != bad.size()) {
            throw new IllegalArgumentException("good and bad phrase lists differ in length");
        }
        good = List.copyOf(good);
        bad = List.copyOf(bad);
        tasks = List.copyOf(tasks);
    }

    static final FeedbackPhrases DIALOGUE = new FeedbackPhrases(
            List.of("The following is a better response.",
                    "The following is a more helpful response.",
                    "The following is a more harmless response.",
                    "The following is a better chat.",
                    "The following is a more helpful chat.",
                    "The following is a more harmless chat.",
                    "Generate a better response.",
                    "Generate a more helpful response.",
                    "Generate a more harmless response.",
                    "Generate a better chat.",
                    "Generate a more helpful chat.",
                    "Generate a more harmless chat."),
            List.of("The following is a worse response.",
                    "The following is a less helpful response.",
                    "The following is a more harmful response.",
                    "The following is a worse chat.",
                    "The following is a less helpful chat.",
                    "The following is a more harmful chat.",
                    "Generate a worse response.",
                    "Generate a less helpful response.",
                    "Generate a more harmful response.",
                    "Generate a worse chat.",
                    "Generate a less helpful chat.",
                    "Generate a more harmful chat."),
            List.of());

    static final FeedbackPhrases WEBGPT = new FeedbackPhrases(
            List.of("The following is a better answer.",
                    "The following is a more accurate answer.",
                    "The following is a more correct answer.",
                    "Generate a better answer.",
                    "Generate a more accurate answer.",
                    "Generate a more correct answer."),
            List.of("The following is a worse answer.",
                    "The following is a less accurate answer.",
                    "The following is a less correct answer.",
                    "Generate a worse answer.",
                    "Generate a less accurate answer.",
                    "Generate a less correct answer."),
            List.of("Quote the following sources in your answer: ",
                    "Use the following sources in your answer: ",
                    "You may use the following sources in your answer: ",
                    "You may quote the following sources in your answer: ",
                    "The following sources may be helpful: "));

    static final FeedbackPhrases SUMMARY = new FeedbackPhrases(
            List.of("The following is a better summary.",
                    "The following is a more accurate summary.",
                    "The following is a more correct summary.",
                    "Generate a better summary.",
                    "Generate a more accurate summary.",
                    "Generate a more correct summary."),
            List.of("The following is a worse summary.",
                    "The following is a less accurate summary.",
                    "The following is a less correct summary.",
                    "Generate a worse summary.",
                    "Generate a less accurate summary.",
                    "Generate a less correct summary."),
            List.of("Write a summary of the following article: ",
                    "Generate a summary of the following text: ",
                    "Summarize the following article: ",
                    "Summarize the following text: ",
                    "Write a summary of the following text: ",
                    "Here is a news article, please summarize it: ",
                    "Please write a summary of the following paragraph: ",
                    "Please summarize the following paragraph: "));
}
