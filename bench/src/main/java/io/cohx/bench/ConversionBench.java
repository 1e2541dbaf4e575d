package io.cohx.bench;

import io.cohx.engine.DType;
import io.cohx.models.checkpoint.AtomicFiles;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.SafetensorsReader;
import io.cohx.models.checkpoint.SafetensorsWriter;
import io.cohx.models.checkpoint.TensorInfo;
import io.cohx.models.checkpoint.WriteProgress;
import io.cohx.models.config.LlamaConfig;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.models.convert.Conversions;
import io.cohx.models.params.HfNaming;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Checkpoint conversion throughput: generates a random LLaMA-shaped Hugging Face checkpoint
 * (about 570 MB of f32 by default) in a temporary folder, then times safetensors write and read
 * and the hf→cohx, cohx→hf and cohx→streaming (bf16) conversions. Prints one JSON line per
 * measurement with MB/s (of tensor bytes) and the peak anonymous RSS during it (sampled every
 * 5 ms; memory-mapped file pages are not counted, they belong to the page cache), which shows
 * conversions hold about one tensor at a time. Usage: {@code bench/run ConversionBench [layers]}.
 */
public final class ConversionBench {
    public static void main(String[] args) throws IOException {
        int layers = args.length > 0 ? Integer.parseInt(args[0]) : 6;
        PeakRss.takeAnonMiB(); // starts the sampler
        ModelConfig cfg = LlamaConfig.preset("debug").withUpdates(Map.of("hidden_size", 1024, "intermediate_size", 2816,
                "num_hidden_layers", layers, "num_attention_heads", 8), "bench");
        HfNaming naming = HfNaming.of(cfg);
        List<TensorInfo> infos = naming.entries().stream()
                .map(e -> new TensorInfo(e.hfName(), DType.F32, e.hfShape())).toList();
        long total = infos.stream().mapToLong(TensorInfo::byteSize).sum();
        long largest = infos.stream().mapToLong(TensorInfo::byteSize).max().orElse(0);
        Path dir = Files.createTempDirectory("cohx-convbench");
        try (Arena pool = Arena.ofConfined()) {
            // One random buffer as large as the largest tensor; each tensor is a prefix of it, so the
            // write timing measures I/O and not the random generator.
            MemorySegment noise = pool.allocate(largest, 64);
            var rnd = new SplittableRandom(1);
            for (long i = 0; i < largest / 4; i++) {
                noise.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) (rnd.nextGaussian() * 0.02));
            }
            Path hf = dir.resolve("hf");
            Files.createDirectories(hf);
            long t0 = System.nanoTime();
            SafetensorsWriter.write(hf.resolve("model.safetensors"), infos, Map.of("format", "pt"),
                    (info, arena) -> new HostTensor(info.name(), info.dtype(), info.shape(), noise.asSlice(0, info.byteSize())),
                    WriteProgress.NONE);
            report("safetensors_write", total, System.nanoTime() - t0);
            Files.writeString(hf.resolve("config.json"), ModelConfigs.toJson(cfg.toHfConfig("float32")));

            t0 = System.nanoTime();
            double sum = 0;
            try (var r = SafetensorsReader.open(hf)) {
                for (TensorInfo t : r.tensors()) {
                    MemorySegment d = r.read(t.name(), null).data();
                    for (long i = 0; i < d.byteSize(); i += 4096) { // touch every page
                        sum += d.get(ValueLayout.JAVA_BYTE, i);
                    }
                }
            }
            report("safetensors_read_mmap", total, System.nanoTime() - t0);

            Path cohx = dir.resolve("cohx");
            t0 = System.nanoTime();
            Conversions.hfToCohx(hf, cohx, Conversions.Options.defaults());
            report("hf_to_cohx", total, System.nanoTime() - t0);

            t0 = System.nanoTime();
            Conversions.cohxToHf(cohx, dir.resolve("hf2"), Conversions.Options.defaults());
            report("cohx_to_hf", total, System.nanoTime() - t0);

            t0 = System.nanoTime();
            Conversions.cohxToStreaming(cohx, dir.resolve("streaming_params"), DType.BF16, WriteProgress.NONE);
            report("cohx_to_streaming_bf16", total, System.nanoTime() - t0);

            t0 = System.nanoTime();
            Conversions.streamingToCohx(dir.resolve("streaming_params"), cfg, dir.resolve("cohx2"),
                    Conversions.Options.defaults().withDtype(DType.F32));
            report("streaming_bf16_to_cohx_f32", total, System.nanoTime() - t0);
            if (sum == 42.4242) {
                System.err.println(); // keeps the read loop from being optimised away
            }
            System.out.printf(Locale.ROOT, "{\"bench\":\"conversion_sizes\",\"total_mb\":%.1f,\"largest_tensor_mb\":%.1f,\"tensors\":%d}%n",
                    total / 1e6, largest / 1e6, infos.size());
        } finally {
            AtomicFiles.deleteQuietly(dir);
        }
    }

    private static void report(String what, long bytes, long nanos) {
        double secs = nanos / 1e9;
        System.out.printf(Locale.ROOT, "{\"bench\":\"%s\",\"mb\":%.1f,\"seconds\":%.3f,\"mb_per_s\":%.1f,\"peak_rss_anon_mb\":%.1f}%n",
                what, bytes / 1e6, secs, bytes / 1e6 / secs, PeakRss.takeAnonMiB());
    }
}
