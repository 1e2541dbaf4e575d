package io.cohx.cli;

import io.cohx.engine.DType;
import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.checkpoint.CohxCheckpoint;
import io.cohx.models.checkpoint.TensorInfo;
import io.cohx.models.checkpoint.WriteProgress;
import io.cohx.models.config.ConfigException;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.models.convert.Conversions;
import io.cohx.models.gguf.GgmlType;
import io.cohx.models.gguf.GgufWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code cohx convert}: checkpoint conversions between Hugging Face folders, Meta's
 * consolidated .pth files, GGUF files, the reference's streaming msgpack and cohx checkpoint folders
 * (docs/CHECKPOINTS.md). Progress goes to stderr, one line per tensor.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert model checkpoints between Hugging Face, Meta, GGUF (llama.cpp), the reference's streaming format and cohx.",
        subcommands = {ConvertCommand.HfToCohx.class, ConvertCommand.CohxToHf.class, ConvertCommand.MetaToCohx.class,
            ConvertCommand.StreamingToCohx.class, ConvertCommand.CohxToStreaming.class, ConvertCommand.GgufToCohx.class,
            ConvertCommand.CohxToGguf.class})
final class ConvertCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Options every conversion into a safetensors folder shares. */
    abstract static class Base implements Callable<Integer> {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", paramLabel = "INPUT", description = "The checkpoint to read.")
        Path input;

        @Parameters(index = "1", paramLabel = "OUTPUT", description = "Where to write (must not exist, or be empty).")
        Path output;

        @Option(names = "--dtype", paramLabel = "TYPE",
                description = "Cast float tensors to f32, bf16 or f16 (default: keep the input's).")
        String dtype;

        @Option(names = "--shard-size", paramLabel = "SIZE",
                description = "Split safetensors output into files of at most SIZE (e.g. 4GB, 500MB).")
        String shardSize;

        abstract void convert(Conversions.Options o);

        abstract long defaultShardBytes();

        @Override
        public Integer call() {
            long t0 = System.nanoTime();
            var progress = new Progress(spec.commandLine().getErr());
            try {
                DType d = dtype == null ? null : parseDtype("--dtype", dtype);
                long shard = shardSize == null ? defaultShardBytes() : parseSize(shardSize);
                convert(new Conversions.Options(d, shard, progress));
            } catch (CheckpointException | ConfigException | IllegalArgumentException e) {
                throw new CohxUserError(e.getMessage(), e);
            }
            progress.done(output, System.nanoTime() - t0);
            return 0;
        }
    }

    @Command(name = "hf-to-cohx", mixinStandardHelpOptions = true,
            description = "A Hugging Face LlamaForCausalLM/GPTJForCausalLM folder (config.json + safetensors) to a cohx checkpoint.")
    static final class HfToCohx extends Base {
        @Override
        void convert(Conversions.Options o) {
            Conversions.hfToCohx(input, output, o);
        }

        @Override
        long defaultShardBytes() {
            return CohxCheckpoint.DEFAULT_SHARD_BYTES;
        }
    }

    @Command(name = "cohx-to-hf", mixinStandardHelpOptions = true,
            description = "A cohx checkpoint to a folder transformers loads (config.json, generation_config.json, safetensors).")
    static final class CohxToHf extends Base {
        @Override
        void convert(Conversions.Options o) {
            Conversions.cohxToHf(input, output, o);
        }

        @Override
        long defaultShardBytes() {
            return Conversions.HF_SHARD_BYTES;
        }
    }

    @Command(name = "meta-to-cohx", mixinStandardHelpOptions = true,
            description = "Meta's LLaMA release folder (params.json + consolidated.NN.pth) to a cohx checkpoint, merging shards.")
    static final class MetaToCohx extends Base {
        @Override
        void convert(Conversions.Options o) {
            Conversions.metaToCohx(input, output, o);
        }

        @Override
        long defaultShardBytes() {
            return CohxCheckpoint.DEFAULT_SHARD_BYTES;
        }
    }

    @Command(name = "streaming-to-cohx", mixinStandardHelpOptions = true,
            description = "A reference streaming_params / streaming_train_state file to a cohx checkpoint.")
    static final class StreamingToCohx extends Base {
        @Option(names = "--model-config", required = true, paramLabel = "SPEC",
                description = "The model: llama:7b, gptj:6b, ..., a JSON config or a Hugging Face config.json/folder.")
        String modelConfig;

        @Option(names = "--update-model-config", paramLabel = "JSON|K=V,..",
                description = "Overrides of model config keys, as a JSON object or key=value list.")
        String updates;

        @Override
        void convert(Conversions.Options o) {
            ModelConfig cfg = ModelConfigs.resolve(modelConfig, null);
            if (updates != null) {
                cfg = cfg.withUpdates(ModelConfigs.parseOverrides(updates, "--update-model-config"), "--update-model-config");
            }
            Conversions.streamingToCohx(input, cfg, output, o);
        }

        @Override
        long defaultShardBytes() {
            return CohxCheckpoint.DEFAULT_SHARD_BYTES;
        }
    }

    @Command(name = "cohx-to-streaming", mixinStandardHelpOptions = true,
            description = "A cohx checkpoint to a reference streaming_params file (load it with params::PATH).")
    static final class CohxToStreaming implements Callable<Integer> {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", paramLabel = "INPUT", description = "The cohx checkpoint folder.")
        Path input;

        @Parameters(index = "1", paramLabel = "OUTPUT", description = "The streaming file to write.")
        Path output;

        @Option(names = "--float-dtype", paramLabel = "TYPE", defaultValue = "bf16",
                description = "Float tensors are written as this type, bf16 like the reference (default), f16, f32, or 'keep'.")
        String floatDtype;

        @Override
        public Integer call() {
            long t0 = System.nanoTime();
            var progress = new Progress(spec.commandLine().getErr());
            try {
                DType d = floatDtype.equalsIgnoreCase("keep") ? null : parseDtype("--float-dtype", floatDtype);
                Conversions.cohxToStreaming(input, output, d, progress);
            } catch (CheckpointException | ConfigException | IllegalArgumentException e) {
                throw new CohxUserError(e.getMessage(), e);
            }
            progress.done(output, System.nanoTime() - t0);
            return 0;
        }
    }

    @Command(name = "gguf-to-cohx", mixinStandardHelpOptions = true,
            description = {"A GGUF file (llama.cpp, Ollama; LLaMA architecture) to a cohx checkpoint: every tensor dequantized",
                "(to f32, or --dtype bf16), the tokenizer vocabulary and chat template kept beside the weights."})
    static final class GgufToCohx extends Base {
        @Override
        void convert(Conversions.Options o) {
            Conversions.ggufToCohx(input, output, o);
        }

        @Override
        long defaultShardBytes() {
            return CohxCheckpoint.DEFAULT_SHARD_BYTES;
        }
    }

    @Command(name = "cohx-to-gguf", mixinStandardHelpOptions = true,
            description = {"A cohx checkpoint (LLaMA family) to a GGUF file llama.cpp and Ollama load: config, tokenizer and",
                "chat template in its metadata, weights as --outtype (norm weights stay f32)."})
    static final class CohxToGguf implements Callable<Integer> {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", paramLabel = "INPUT", description = "The cohx checkpoint folder.")
        Path input;

        @Parameters(index = "1", paramLabel = "OUTPUT", description = "The .gguf file to write (replaced atomically).")
        Path output;

        @Option(names = "--outtype", paramLabel = "TYPE", defaultValue = "f16",
                description = "Weight encoding: f32, f16, bf16 or q8_0 (default: ${DEFAULT-VALUE}).")
        String outtype;

        @Option(names = "--vocab-from", paramLabel = "FILE|DIR",
                description = "Take the tokenizer vocabulary and chat template from this GGUF file or cohx checkpoint"
                        + " (default: the one INPUT keeps; checkpoints imported from GGUF, and runs trained from them, keep it).")
        Path vocabFrom;

        @Override
        public Integer call() {
            long t0 = System.nanoTime();
            GgmlType type = GgmlType.byName(outtype);
            if (type == null || !GgufWriter.WRITABLE.contains(type)) {
                throw new CohxUserError("--outtype " + outtype + ": use f32, f16, bf16 or q8_0");
            }
            var progress = new Progress(spec.commandLine().getErr());
            try {
                Conversions.cohxToGguf(input, output, type, vocabFrom, progress);
            } catch (CheckpointException | ConfigException | IllegalArgumentException e) {
                throw new CohxUserError(e.getMessage(), e);
            }
            progress.done(output, System.nanoTime() - t0);
            return 0;
        }
    }

    static DType parseDtype(String flag, String value) {
        try {
            DType d = DType.parse(value);
            if (!d.isFloating()) {
                throw new IllegalArgumentException("'" + value + "' is not a float type");
            }
            return d;
        } catch (IllegalArgumentException | io.cohx.engine.EngineException e) {
            throw new CohxUserError(flag + ": " + e.getMessage() + " (use f32, bf16 or f16)");
        }
    }

    /** {@code 4GB}, {@code 500MB}, {@code 1024} (bytes); decimal units as Hugging Face's max_shard_size. */
    static long parseSize(String s) {
        String t = s.trim().toUpperCase(Locale.ROOT);
        long mult = 1;
        for (String[] u : new String[][] {{"GIB", "1073741824"}, {"MIB", "1048576"}, {"KIB", "1024"},
                {"GB", "1000000000"}, {"MB", "1000000"}, {"KB", "1000"}, {"B", "1"}}) {
            if (t.endsWith(u[0])) {
                mult = Long.parseLong(u[1]);
                t = t.substring(0, t.length() - u[0].length()).trim();
                break;
            }
        }
        try {
            long v = (long) (Double.parseDouble(t) * mult);
            if (v <= 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new CohxUserError("--shard-size: '" + s + "' is not a size such as 4GB, 500MB or 1048576");
        }
    }

    /** One stderr line per tensor: count, name, shape and running throughput. */
    static final class Progress implements WriteProgress {
        private final PrintWriter err;
        private final long start = System.nanoTime();
        private long bytes;
        private int count;

        Progress(PrintWriter err) {
            this.err = err;
        }

        @Override
        public void tensorWritten(int index, int total, TensorInfo t) {
            bytes += t.byteSize();
            count = index;
            double secs = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
            err.printf(Locale.ROOT, "convert: [%d/%d] %s %s%s  %.1f MB/s%n", index, total, t.name(), t.dtype(),
                    java.util.Arrays.toString(t.shape()), bytes / 1e6 / secs);
            err.flush();
        }

        void done(Path out, long nanos) {
            double secs = nanos / 1e9;
            err.printf(Locale.ROOT, "convert: wrote %d tensors (%.1f MB) to %s in %.1f s%n", count, bytes / 1e6, out, secs);
            err.flush();
        }
    }
}
