package io.cohx.cli;

import io.cohx.coh.data.DataException;
import io.cohx.coh.data.FeedbackDataset;
import io.cohx.coh.data.HubDatasets;
import io.cohx.coh.data.InputFile;
import io.cohx.coh.data.PackJob;
import io.cohx.coh.data.PackOptions;
import io.cohx.coh.data.FeedbackType;
import io.cohx.coh.data.Split;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code cohx pack}: turns the human-feedback datasets into Chain of Hindsight JSONL files, with
 * the reference packer's options and output names (docs/COH.md#output-files). Datasets come from local
 * files ({@code --input}) or, for those without, from the Hugging Face Hub.
 */
@Command(name = "pack", mixinStandardHelpOptions = true,
        description = {"Packs feedback datasets (dialogue = HH-RLHF, webgpt, summary) into Chain of Hindsight sequences.",
                "Writes <dataset>_train_<types>.jsonl / _eval_ per dataset, combined train_<types>.jsonl / eval_<types>.jsonl",
                "and seeded shuffled copies; prints a summary table. Progress goes to stderr."})
public final class PackCommand implements Callable<Integer> {

    @Option(names = "--dataset", defaultValue = "dialogue,webgpt,summary", paramLabel = "LIST",
            description = "Comma list of dialogue, webgpt, summary (default: ${DEFAULT-VALUE}).")
    String datasets;

    @Option(names = "--include-feedback", defaultValue = PackOptions.DEFAULT_FEEDBACK, paramLabel = "LIST",
            description = "Comma list of p, n, pn, np and aux (aux: every type once per phrase pair of the dataset)"
                    + " (default: ${DEFAULT-VALUE}).")
    String includeFeedback;

    @Option(names = "--input", paramLabel = "NAME[.SPLIT]=PATH",
            description = "Local data for a dataset: a .jsonl, .jsonl.gz or .json file, or a folder of them; the split"
                    + " (train/eval) comes from the file name unless given. Datasets without --input are downloaded.")
    List<String> inputs = new ArrayList<>();

    @Option(names = "--output-dir", defaultValue = ".", paramLabel = "DIR", description = "Where to write (default: ${DEFAULT-VALUE}).")
    Path outputDir;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the task-phrase choice and the shuffle (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--strict", description = "Stop at the first malformed line or bad field instead of skipping it.")
    boolean strict;

    @Option(names = "--user-marker", defaultValue = "User:", description = "Default: ${DEFAULT-VALUE}")
    String userMarker;
    @Option(names = "--gpt-marker", defaultValue = "A helpful answer:", description = "Default: ${DEFAULT-VALUE}")
    String gptMarker;
    @Option(names = "--gpt-bad-marker", defaultValue = "An unhelpful answer:", description = "Default: ${DEFAULT-VALUE}")
    String gptBadMarker;
    @Option(names = "--user-field-id", defaultValue = "marker_user", description = "Default: ${DEFAULT-VALUE}")
    String userFieldId;
    @Option(names = "--gpt-field-id", defaultValue = "marker_gpt", description = "Default: ${DEFAULT-VALUE}")
    String gptFieldId;
    @Option(names = "--gpt-bad-field-id", defaultValue = "marker_gpt_bad", description = "Default: ${DEFAULT-VALUE}")
    String gptBadFieldId;
    @Option(names = "--user-data-id", defaultValue = "human", description = "Default: ${DEFAULT-VALUE}")
    String userDataId;
    @Option(names = "--gpt-data-id", defaultValue = "gpt", description = "Default: ${DEFAULT-VALUE}")
    String gptDataId;
    @Option(names = "--gpt-bad-data-id", defaultValue = "gpt_bad", description = "Default: ${DEFAULT-VALUE}")
    String gptBadDataId;

    @Option(names = "--hub-endpoint", paramLabel = "URL",
            description = "Hugging Face Hub endpoint (default: $COHX_HF_ENDPOINT, else $HF_ENDPOINT, else the public Hub).")
    String hubEndpoint;
    @Option(names = "--hub-revision", defaultValue = "main", description = "Dataset revision on the Hub (default: ${DEFAULT-VALUE}).")
    String hubRevision;
    @Option(names = "--cache-dir", paramLabel = "DIR", description = "Download cache (default: $COHX_CACHE_DIR or ~/.cache/cohx).")
    Path cacheDir;
    @Option(names = "--offline", description = "Never download: every dataset needs --input.")
    boolean offline;

    @Override
    public Integer call() {
        try {
            var options = new PackOptions(FeedbackType.Selection.parse(includeFeedback), userMarker, gptMarker, gptBadMarker,
                    userFieldId, gptFieldId, gptBadFieldId, userDataId, gptDataId, gptBadDataId, seed);
            var selected = FeedbackDataset.parseList(datasets);
            var local = new EnumMap<FeedbackDataset, List<InputFile>>(FeedbackDataset.class);
            for (String spec : inputs) {
                int eq = spec.indexOf('=');
                if (eq <= 0) {
                    throw new DataException("--input '" + spec + "': expected NAME=PATH or NAME.SPLIT=PATH, e.g."
                            + " dialogue=data/hh-rlhf");
                }
                String name = spec.substring(0, eq);
                int dot = name.indexOf('.');
                var dataset = FeedbackDataset.byName(dot < 0 ? name : name.substring(0, dot));
                Split split = dot < 0 ? null : Split.byLabel(name.substring(dot + 1));
                if (!selected.contains(dataset)) {
                    throw new DataException("--input " + spec + ": " + dataset.cliName() + " is not in --dataset " + datasets);
                }
                local.computeIfAbsent(dataset, d -> new ArrayList<>())
                        .addAll(InputFile.resolve(dataset, Path.of(spec.substring(eq + 1)), split));
            }
            HubDatasets hub = offline ? null : new HubDatasets(HubDatasets.endpoint(hubEndpoint), hubRevision,
                    cacheDir != null ? cacheDir : HubDatasets.defaultCacheDir(), System.err);
            var report = new PackJob(new PackJob.Request(selected, local, options, outputDir, strict, hub), System.err).run();
            System.out.print(report.table());
            System.out.println("written to " + outputDir.toAbsolutePath().normalize());
            return 0;
        } catch (DataException e) {
            System.err.println("cohx pack: " + e.getMessage());
            return 1;
        }
    }
}
