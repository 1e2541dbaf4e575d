package io.cohx.coh.train;

import io.cohx.coh.data.DataPosition;
import io.cohx.coh.data.PackedBatch;
import io.cohx.coh.data.PackedBatches;
import io.cohx.engine.NdArray;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Prepares the next steps' batches on a host thread while the device computes: each item holds
 * {@code k} micro-batches per dataset as {@code [k, B, S]} arrays (tokens, masks, and segment ids
 * when the batches carry them), plus the data positions
 * <em>after</em> them, which is what a checkpoint taken after that step must store.
 */
final class Prefetcher implements AutoCloseable {
    /**
     * One step's batches (host arrays, as the step's inputs take them); {@code pt*} are null without
     * a pretraining set, the batches' segment ids null unless the packer makes them.
     */
    record Item(StepIo.Batch<Object> hf, StepIo.Batch<Object> pt, DataPosition hfPosition, DataPosition ptPosition, long epoch) {}

    private record Failure(RuntimeException error) {}

    private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(2);
    private final Thread thread;
    private volatile boolean closed;

    Prefetcher(PackedBatches hf, PackedBatches pt, int accumulate) {
        thread = Thread.ofPlatform().daemon().name("cohx-prefetch").start(() -> {
            try {
                while (!closed) {
                    var h = stack(hf, accumulate);
                    var p = pt == null ? null : stack(pt, accumulate);
                    Item item = new Item(h, p, hf.position(), pt == null ? null : pt.position(), hf.epoch());
                    while (!closed && !queue.offer(item, 100, TimeUnit.MILLISECONDS)) {
                        // wait for the trainer to take one
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                queue.clear();
                queue.offer(new Failure(e));
            }
        });
    }

    private static StepIo.Batch<Object> stack(PackedBatches it, int k) {
        int[] tokens = null;
        float[] masks = null;
        int[] segments = null;
        int b = 0, s = 0;
        for (int i = 0; i < k; i++) {
            PackedBatch batch = it.next();
            if (tokens == null) {
                b = batch.batch();
                s = batch.seq();
                tokens = new int[k * b * s];
                masks = new float[k * b * s];
                segments = batch.segmentIds() == null ? null : new int[k * b * s];
            }
            System.arraycopy(batch.tokens(), 0, tokens, i * b * s, b * s);
            System.arraycopy(batch.lossMasks(), 0, masks, i * b * s, b * s);
            if (segments != null) {
                System.arraycopy(batch.segmentIds(), 0, segments, i * b * s, b * s);
            }
        }
        return new StepIo.Batch<>(NdArray.of(tokens, k, b, s), NdArray.of(masks, k, b, s),
                segments == null ? null : NdArray.of(segments, k, b, s));
    }

    /** The next step's batches (blocks until ready); rethrows a data error from the reader. */
    Item next() {
        try {
            Object o = queue.take();
            if (o instanceof Failure f) {
                throw f.error();
            }
            return (Item) o;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TrainingException("interrupted while waiting for data", e);
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
