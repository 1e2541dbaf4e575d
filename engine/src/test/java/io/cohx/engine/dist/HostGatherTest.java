package io.cohx.engine.dist;

import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.NdArray;
import io.cohx.engine.mesh.Mesh;
import io.cohx.engine.mesh.PartitionSpec;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The gather program that lets a process read an array whose blocks span processes, run on a
 * 4-device CPU mesh (one process: the same program, with every block local).
 */
class HostGatherTest {
    @Test
    void shardedArraysComeBackWholeThroughTheReplicatingProgram() {
        PjrtClient client = TestPlugins.cpuClient(4);
        Mesh mesh = Mesh.parse("1,2,2", client.addressableDevices());
        var r = new Random(5);
        double[] v = new double[8 * 6];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextGaussian();
        }
        NdArray host = NdArray.of(DType.F32, v, 8, 6);
        PartitionSpec spec = PartitionSpec.of("fsdp", "mp");
        try (HostGather gather = new HostGather(client, mesh);
             DeviceArray a = DeviceArray.put(client, host, mesh, spec, "w")) {
            NdArray back = gather.toHost("w", a);
            assertEquals(host.type(), back.type());
            assertArrayEquals(host.segment().toArray(ValueLayout.JAVA_BYTE), back.segment().toArray(ValueLayout.JAVA_BYTE));
            NdArray again = gather.toHost("w", a); // the input stays valid (not donated)
            assertArrayEquals(host.segment().toArray(ValueLayout.JAVA_BYTE), again.segment().toArray(ValueLayout.JAVA_BYTE));
        }
    }
}
