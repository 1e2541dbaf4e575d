package io.cohx.bench;

import io.cohx.coh.data.FeedbackDataset;
import io.cohx.coh.data.InputFile;
import io.cohx.coh.data.PackJob;
import io.cohx.coh.data.PackOptions;
import io.cohx.coh.data.PackedBatch;
import io.cohx.coh.data.PackedBatches;
import io.cohx.coh.data.Split;
import io.cohx.models.tokenizer.Tokenizers;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Batch production throughput (tokens/s): packed CoH sequences from a generated HH-format file
 * through TextProcessor and PackedBatches, as a training host would make them. Usage:
 * {@code BatchBench TOKENIZER [records] [batch] [seq]}, TOKENIZER a LLaMA-layout
 * {@code tokenizer.model} (or {@code gpt2}). Prints one JSON line.
 */
public final class BatchBench {

    public static void main(String[] args) throws Exception {
        String tokenizerSpec = args.length > 0 ? args[0] : "gpt2";
        int records = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        int seq = args.length > 3 ? Integer.parseInt(args[3]) : 2048;
        var tokenizer = Tokenizers.load(tokenizerSpec);
        Path work = Files.createTempDirectory("cohx-batchbench-");
        try {
            Path input = work.resolve("in/train.jsonl.gz");
            PackBench.generate(input, records);
            var quiet = new PrintStream(OutputStream.nullOutputStream());
            new PackJob(new PackJob.Request(List.of(FeedbackDataset.DIALOGUE),
                    Map.of(FeedbackDataset.DIALOGUE, List.of(new InputFile(input, Split.TRAIN))),
                    PackOptions.defaults().withFeedback("p,n,pn,np,aux"), work.resolve("packed"), false, null), quiet).run();
            var files = List.of(work.resolve("packed/hh_dialogue_train_p,n,pn,np,aux.jsonl"));
            var options = PackedBatches.Options.of(batch, seq);
            try (var it = PackedBatches.feedback(files, tokenizer, options, quiet)) {
                for (int i = 0; i < 20; i++) {
                    it.next(); // warm-up
                }
                long t0 = System.nanoTime();
                long tokens = 0;
                long checksum = 0;
                while (System.nanoTime() - t0 < 10_000_000_000L) {
                    PackedBatch b = it.next();
                    tokens += b.tokens().length;
                    checksum += b.tokens()[b.tokens().length - 1];
                }
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("{\"bench\":\"batches\",\"tokenizer\":\"%s\",\"batch\":%d,\"seq\":%d,\"tokens\":%d,"
                                + "\"seconds\":%.2f,\"tokens_per_s\":%.0f,\"epoch\":%d,\"checksum\":%d}%n",
                        tokenizerSpec.replace("\\", "/"), batch, seq, tokens, s, tokens / s, it.epoch(), checksum);
            }
        } finally {
            PackBench.delete(work);
        }
    }
}
