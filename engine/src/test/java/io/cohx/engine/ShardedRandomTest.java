package io.cohx.engine;

import io.cohx.pjrt.CompileOptions;
import io.cohx.pjrt.PjrtBuffer;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.PjrtDevice;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Random numbers do not depend on sharding: the same program partitioned over two CPU devices
 * (rows split, through the emission's annotation hook) gives the rows of the one-device result.
 */
class ShardedRandomTest {

    @Test
    void uniformAndNormalAreTheSameOnOneDeviceAndSharded() {
        java.util.function.Function<Tree<Tensor>, Tree<Tensor>> f = t -> Tree.of(
                "u", Rng.uniform(t.get("key"), DType.F32, Shape.of(8, 4), 0, 1),
                "n", Rng.normal(Rng.foldIn(t.get("key"), 9), DType.F32, Shape.of(8, 4)));
        Tree<NdArray> one = Run.once("rng_one", Tree.of("key", Rng.keyData(5)), f);

        Program p = Program.trace("rng_sharded", Tree.of("key", ArrayType.of(DType.U32, 2)), f);
        String text = p.mlir(new Program.Annotations() {
            @Override
            public String moduleHeader() {
                return "sdy.mesh @mesh = <[\"x\"=2]>";
            }

            @Override
            public String argument(String path, ArrayType type) {
                return "sdy.sharding = #sdy.sharding<@mesh, [{}]>";
            }

            @Override
            public String result(String path, ArrayType type) {
                return "sdy.sharding = #sdy.sharding<@mesh, [{\"x\"}, {}]>";
            }

            @Override
            public int numPartitions() {
                return 2;
            }
        }, Map.of());
        PjrtClient c = TestPlugins.cpuClient(8);
        PjrtDevice d0 = c.addressableDevices().get(0);
        PjrtDevice d1 = c.addressableDevices().get(1);
        try (var exe = c.compile(text, CompileOptions.builder().numPartitions(2).spmd(true).shardy(true).devices(d0.id(), d1.id()).build())) {
            var args = new ArrayList<List<PjrtBuffer>>();
            for (PjrtDevice d : exe.addressableDevices()) {
                NdArray key = Rng.keyData(5);
                args.add(List.of(c.bufferFromHost(key.segment(), key.dtype().elementType(), key.shape().longDims(), d)));
            }
            var outs = exe.execute(args);
            for (int k = 0; k < 2; k++) {
                String name = k == 0 ? "u" : "n";
                float[] whole = one.get(name).toFloatArray();
                float[] joined = new float[32];
                for (int dev = 0; dev < 2; dev++) {
                    try (var shard = new DeviceArray(outs.get(dev).get(k))) {
                        float[] part = shard.toHost().toFloatArray();
                        System.arraycopy(part, 0, joined, dev * 16, 16);
                    }
                }
                assertArrayEquals(whole, joined, name + ": sharded values differ from the one-device values");
            }
            args.forEach(l -> l.forEach(PjrtBuffer::close));
        }
    }
}
