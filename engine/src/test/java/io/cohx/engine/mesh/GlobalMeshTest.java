package io.cohx.engine.mesh;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The multi-process mesh order and which batch rows each process supplies. Device lists of
 * several processes cannot be made on the one-process CPU plugin, so these use device
 * descriptions (process index, global id) as a multi-host client reports them.
 */
class GlobalMeshTest {
    record Dev(int process, int id) {}

    @Test
    void devicesAreOrderedHostMajorThenById() {
        // As a 2-host GPU client might list them: interleaved, ids not in process order.
        var listed = List.of(new Dev(1, 5), new Dev(0, 1), new Dev(1, 4), new Dev(0, 0), new Dev(1, 7), new Dev(0, 3), new Dev(1, 6), new Dev(0, 2));
        var ordered = Mesh.hostMajor(listed, Dev::process, Dev::id);
        assertEquals(List.of(new Dev(0, 0), new Dev(0, 1), new Dev(0, 2), new Dev(0, 3), new Dev(1, 4), new Dev(1, 5), new Dev(1, 6), new Dev(1, 7)),
                ordered);
    }

    @Test
    void eachProcessSuppliesTheRowsOfItsDevices() {
        int[] twoHostsOfFour = {0, 0, 0, 0, 1, 1, 1, 1};
        // fsdp over all 8 devices (mp = 1): a 16-row batch splits 8 / 8.
        assertArrayEquals(new int[] {0, 8}, Mesh.batchRows(twoHostsOfFour, 1, 16, 0));
        assertArrayEquals(new int[] {8, 16}, Mesh.batchRows(twoHostsOfFour, 1, 16, 1));
        // mp = 4 inside each host: two batch slices, one per host.
        assertArrayEquals(new int[] {0, 8}, Mesh.batchRows(twoHostsOfFour, 4, 16, 0));
        assertArrayEquals(new int[] {8, 16}, Mesh.batchRows(twoHostsOfFour, 4, 16, 1));
        // mp = 8 spans both hosts: one batch slice, which both hosts need whole.
        assertArrayEquals(new int[] {0, 16}, Mesh.batchRows(twoHostsOfFour, 8, 16, 0));
        assertArrayEquals(new int[] {0, 16}, Mesh.batchRows(twoHostsOfFour, 8, 16, 1));
        // Four hosts of two, mp = 2: a quarter each.
        assertArrayEquals(new int[] {12, 16}, Mesh.batchRows(new int[] {0, 0, 1, 1, 2, 2, 3, 3}, 2, 16, 3));
    }

    @Test
    void rowsOfEveryProcessTileTheBatchExactlyOnce() {
        int[] owner = {0, 0, 1, 1, 2, 2};
        int next = 0;
        for (int p = 0; p < 3; p++) {
            int[] r = Mesh.batchRows(owner, 1, 12, p);
            assertEquals(next, r[0]);
            next = r[1];
        }
        assertEquals(12, next);
    }

    @Test
    void aMeshOutOfHostOrderOrAnUnevenBatchIsRefused() {
        var e = assertThrows(MeshException.class, () -> Mesh.batchRows(new int[] {0, 1, 0, 1}, 1, 8, 0));
        assertEquals("process 0's batch rows are not contiguous in this mesh; order the devices with Mesh.globalOrder", e.getMessage());
        assertThrows(MeshException.class, () -> Mesh.batchRows(new int[] {0, 0, 1, 1}, 1, 6, 0));
    }
}
