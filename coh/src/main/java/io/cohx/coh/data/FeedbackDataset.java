package io.cohx.coh.data;

import static io.cohx.coh.data.FeedbackType.N;
import static io.cohx.coh.data.FeedbackType.NP;
import static io.cohx.coh.data.FeedbackType.P;
import static io.cohx.coh.data.FeedbackType.PN;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The three feedback datasets of Chain of Hindsight (docs/COH.md#datasets) as a table: the name used on
 * the command line, the prefix of the per-dataset output files, the Hugging Face Hub repository,
 * the phrases, and the order in which the reference emits the feedback types (it differs between
 * dialogue and the other two, and output order is part of parity).
 */
public enum FeedbackDataset {
    DIALOGUE("dialogue", "hh_dialogue", "Anthropic/hh-rlhf", FeedbackPhrases.DIALOGUE, List.of(P, N, NP, PN)),
    WEBGPT("webgpt", "webgpt", "openai/webgpt_comparisons", FeedbackPhrases.WEBGPT, List.of(P, N, PN, NP)),
    SUMMARY("summary", "summary", "openai/summarize_from_feedback", FeedbackPhrases.SUMMARY, List.of(P, N, PN, NP));

    private final String cliName;
    private final String filePrefix;
    private final String hubRepo;
    private final FeedbackPhrases phrases;
    private final List<FeedbackType> typeOrder;

    FeedbackDataset(String cliName, String filePrefix, String hubRepo, FeedbackPhrases phrases,
                    List<FeedbackType> typeOrder) {
        this.cliName = cliName;
        this.filePrefix = filePrefix;
        this.hubRepo = hubRepo;
        this.phrases = phrases;
        this.typeOrder = typeOrder;
    }

    public String cliName() {
        return cliName;
    }

    public String filePrefix() {
        return filePrefix;
    }

    public String hubRepo() {
        return hubRepo;
    }

    public FeedbackPhrases phrases() {
        return phrases;
    }

    public List<FeedbackType> typeOrder() {
        return typeOrder;
    }

    /** WebGPT comparisons were published with a train split only. */
    public boolean hasEvalSplit() {
        return this != WEBGPT;
    }

    public FeedbackPacker packer(PackOptions options) {
        return switch (this) {
            case DIALOGUE -> new DialoguePacker(options);
            case WEBGPT -> new WebGptPacker(options);
            case SUMMARY -> new SummaryPacker(options);
        };
    }

    public static FeedbackDataset byName(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        for (var d : values()) {
            if (d.cliName.equals(n)) {
                return d;
            }
        }
        throw new DataException("--dataset: unknown dataset '" + name + "'; choose from "
                + String.join(", ", Arrays.stream(values()).map(FeedbackDataset::cliName).toList()));
    }

    /** Parses a comma list such as {@code dialogue,webgpt,summary}, keeping its order. */
    public static List<FeedbackDataset> parseList(String list) {
        var out = Arrays.stream(list.split(",")).filter(s -> !s.isBlank()).map(FeedbackDataset::byName)
                .distinct().toList();
        if (out.isEmpty()) {
            throw new DataException("--dataset is empty; choose from dialogue, webgpt, summary");
        }
        return out;
    }
}
