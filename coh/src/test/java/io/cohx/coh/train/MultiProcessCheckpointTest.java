package io.cohx.coh.train;

import io.cohx.engine.DType;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.engine.dist.Coordination;
import io.cohx.engine.dist.CoordinationException;
import io.cohx.engine.dist.ProcessGroup;
import io.cohx.models.checkpoint.TensorInfo;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpoints saved by two processes together (each a {@link Coordination} member over real TCP,
 * here in threads of one JVM; the store and barriers are the same code as across hosts).
 */
class MultiProcessCheckpointTest {
    private static final Coordination.Timeouts FAST = new Coordination.Timeouts(Duration.ofSeconds(10), Duration.ofMillis(200), Duration.ofSeconds(3));

    @TempDir
    Path tmp;

    private static Tree<NdArray> tree(long seed, String prefix, int n) {
        var r = new Random(seed);
        var paths = new ArrayList<String>();
        var values = new ArrayList<NdArray>();
        for (int i = 0; i < n; i++) {
            int rows = 1 + r.nextInt(6), cols = 1 + r.nextInt(9);
            double[] v = new double[rows * cols];
            for (int j = 0; j < v.length; j++) {
                v[j] = r.nextGaussian();
            }
            paths.add(prefix + "layer_" + i + ".w");
            values.add(NdArray.of(DType.F32, v, rows, cols));
        }
        return Tree.of(paths, values);
    }

    private static ModelConfig config() {
        return ModelConfigs.preset("llama", "debug");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Runs {@code body(coordination)} as processes 0 and 1 of a two-process run; returns each one's result or exception. */
    private static List<Object> asTwoProcesses(java.util.function.BiFunction<Integer, Coordination, Object> body) throws Exception {
        int port = freePort();
        var pool = Executors.newFixedThreadPool(2);
        try {
            var futures = new ArrayList<Future<Object>>();
            for (int p = 0; p < 2; p++) {
                final int me = p;
                futures.add(pool.submit((Callable<Object>) () -> {
                    try (Coordination c = Coordination.join(new ProcessGroup(me, 2, "127.0.0.1", port), FAST, m -> {})) {
                        c.sync("rendezvous", Duration.ofSeconds(10)); // as a run starts
                        Object result = body.apply(me, c);
                        c.finish(Duration.ofSeconds(10)); // as a run ends; a throw above drops the session instead
                        return result;
                    }
                }));
            }
            var out = new ArrayList<Object>();
            for (var f : futures) {
                try {
                    out.add(f.get());
                } catch (ExecutionException e) {
                    out.add(e.getCause());
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void assertSameTrees(Tree<NdArray> a, Tree<NdArray> b) {
        assertEquals(a.paths(), b.paths());
        for (String p : a.paths()) {
            assertEquals(a.get(p).type(), b.get(p).type(), p);
            assertArrayEquals(a.get(p).segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                    b.get(p).segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), p);
        }
    }

    @Test
    void twoProcessesShareTheWriteAndTheFolderLoadsAsTheSingleProcessCheckpoint() throws Exception {
        Tree<NdArray> params = tree(1, "params.", 7), opt = tree(2, "", 5);
        Map<String, Object> extra = Map.of("data_positions", Map.of("hf", "{}"));
        Path single = TrainCheckpoint.save(tmp.resolve("one"), "step_3", config(), 3, params, opt, extra);

        List<Object> saved = asTwoProcesses((me, c) -> TrainCheckpoint.save(tmp.resolve("two"), "step_3", config(), 3, params, opt, extra, null, c, null));
        assertEquals(List.of(tmp.resolve("two/checkpoints/step_3"), tmp.resolve("two/checkpoints/step_3")), saved);
        Path multi = tmp.resolve("two/checkpoints/step_3");
        assertEquals(List.of("manifest.json", "opt_state-00001-of-00002.safetensors", "opt_state-00002-of-00002.safetensors",
                "opt_state.safetensors.index.json", "params-00001-of-00002.safetensors", "params-00002-of-00002.safetensors",
                "params.safetensors.index.json"), files(multi), "one file per process, indexes by process 0");
        assertEquals(List.of("LATEST", "step_3"), files(tmp.resolve("two/checkpoints")), "no temporary folder is left");
        assertEquals(TrainCheckpoint.latest(tmp.resolve("two")), multi);

        // Loaded on one process: exactly the single-process checkpoint.
        var a = TrainCheckpoint.load(single, true);
        var b = TrainCheckpoint.load(multi, true);
        assertSameTrees(a.params(), b.params());
        assertSameTrees(a.optState(), b.optState());
        assertEquals(a.step(), b.step());
        var extraA = new java.util.HashMap<>(a.extra());
        var extraB = new java.util.HashMap<>(b.extra());
        assertEquals(List.of("params.safetensors"), ((Map<?, ?>) extraA.remove("params")).get("files"));
        assertEquals(List.of("params-00001-of-00002.safetensors", "params-00002-of-00002.safetensors", "params.safetensors.index.json"),
                ((Map<?, ?>) extraB.remove("params")).get("files"));
        assertEquals(extraA, extraB);
        // Loaded on two processes: each gets the whole state (it then puts only its own shards).
        List<Object> loaded = asTwoProcesses((me, c) -> TrainCheckpoint.load(TrainCheckpoint.latest(tmp.resolve("two")), true));
        for (Object l : loaded) {
            assertSameTrees(a.params(), ((TrainCheckpoint.Loaded) l).params());
        }
    }

    @Test
    void sharesSplitByBytesAndEveryTensorHasOneWriter() {
        var infos = new ArrayList<TensorInfo>();
        for (long size : new long[] {100, 100, 400, 100, 300}) {
            infos.add(new TensorInfo("t" + infos.size(), DType.F32, new long[] {size / 4}));
        }
        assertArrayEquals(new int[] {0, 0, 0, 1, 1}, TrainCheckpoint.shareOf(infos, 2));
        assertArrayEquals(new int[] {0, 0, 1, 2, 3}, TrainCheckpoint.shareOf(infos, 4));
        assertArrayEquals(new int[] {1}, TrainCheckpoint.shareOf(infos.subList(0, 1), 3), "few tensors: some processes write nothing");
    }

    @Test
    void aProcessThatFailsWhileWritingLeavesLatestOnThePreviousCheckpoint() throws Exception {
        Tree<NdArray> params = tree(1, "params.", 6);
        asTwoProcesses((me, c) -> TrainCheckpoint.save(tmp, "step_1", config(), 1, params, null, Map.of(), null, c, null));
        assertEquals(tmp.resolve("checkpoints/step_1"), TrainCheckpoint.latest(tmp));

        // Process 1's tensors cannot be read (as when its device fails): it throws and leaves the run.
        Tree<NdArray> broken = Tree.of(params.paths(), params.paths().stream().map(p -> (NdArray) null).toList());
        List<Object> outcome = asTwoProcesses((me, c) -> TrainCheckpoint.save(tmp, "step_2", config(), 2, me == 1 ? broken : params, null,
                Map.of(), null, c, null));
        assertInstanceOf(CoordinationException.class, outcome.get(0), "process 0 is told: " + outcome.get(0));
        assertTrue(((Exception) outcome.get(0)).getMessage().contains("process 1 of 2"), ((Exception) outcome.get(0)).getMessage());
        assertInstanceOf(RuntimeException.class, outcome.get(1));
        assertEquals(tmp.resolve("checkpoints/step_1"), TrainCheckpoint.latest(tmp), "LATEST still names the last complete checkpoint");
        assertFalse(Files.exists(tmp.resolve("checkpoints/step_2")));
        var again = TrainCheckpoint.load(TrainCheckpoint.latest(tmp), false);
        assertSameTrees(params, again.params());
        assertThrows(RuntimeException.class, () -> {
            throw (RuntimeException) outcome.get(1);
        });
    }

    /**
     * Device arrays sharded over a 4-device mesh, saved through the gather program (the path for
     * arrays whose blocks span processes): both members walk every tensor in order, each writes
     * its share, and the folder equals the single-process save.
     */
    @Test
    void shardedDeviceArraysAreSavedThroughTheGatherProgram() throws Exception {
        var client = io.cohx.pjrt.testing.TestPlugins.cpuClient(4);
        var mesh = io.cohx.engine.mesh.Mesh.parse("1,4,1", client.addressableDevices());
        var spec = io.cohx.engine.mesh.PartitionSpec.of("fsdp");
        var r = new Random(3);
        var paths = new ArrayList<String>();
        var host = new ArrayList<NdArray>();
        var device = new ArrayList<io.cohx.engine.DeviceArray>();
        for (int i = 0; i < 5; i++) {
            double[] v = new double[8 * (i + 1)];
            for (int j = 0; j < v.length; j++) {
                v[j] = r.nextGaussian();
            }
            NdArray a = NdArray.of(DType.F32, v, 8, i + 1);
            paths.add("params.w" + i);
            host.add(a);
            device.add(io.cohx.engine.DeviceArray.put(client, a, mesh, spec, "params.w" + i));
        }
        Tree<io.cohx.engine.DeviceArray> onDevice = Tree.of(paths, device);
        try {
            asTwoProcesses((me, c) -> {
                try (var gather = new io.cohx.engine.dist.HostGather(client, mesh)) {
                    return TrainCheckpoint.save(tmp, "step_1", config(), 1, onDevice, null, Map.of(), null, c, gather);
                }
            });
            assertEquals(List.of("manifest.json", "params-00001-of-00002.safetensors", "params-00002-of-00002.safetensors",
                    "params.safetensors.index.json"), files(tmp.resolve("checkpoints/step_1")));
            assertSameTrees(Tree.of(paths, host), TrainCheckpoint.load(TrainCheckpoint.latest(tmp), false).params());
        } finally {
            device.forEach(io.cohx.engine.DeviceArray::close);
        }
    }
}
