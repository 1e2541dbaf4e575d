package io.cohx.coh.observe;

import io.cohx.coh.observe.proto.TensorBoardProtos.Event;
import io.cohx.coh.observe.proto.TensorBoardProtos.Summary;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Writes TensorBoard event files ({@code events.out.tfevents.<time>.<host>}) of scalar summaries:
 * TFRecord framing (u64 length, masked CRC32C of the length, the Event proto, masked CRC32C of
 * the payload). Each record is flushed, so a crash loses at most the step being written.
 * Not thread-safe: one writer per run, used by the training loop's thread.
 */
public final class TensorBoardWriter implements AutoCloseable {
    private final Path file;
    private final OutputStream out;

    public TensorBoardWriter(Path dir) {
        try {
            Files.createDirectories(dir);
            String host;
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = "localhost";
            }
            long now = System.currentTimeMillis();
            this.file = dir.resolve("events.out.tfevents." + (now / 1000) + "." + host);
            this.out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            write(Event.newBuilder().setWallTime(now / 1000.0).setFileVersion("brain.Event:2").build());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write TensorBoard events in " + dir + ": " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }

    /** Adds scalars {@code tag → value} at {@code step}. */
    public void scalars(long step, Map<String, ? extends Number> values) {
        var summary = Summary.newBuilder();
        values.forEach((tag, v) -> summary.addValue(Summary.Value.newBuilder().setTag(tag).setSimpleValue(v.floatValue())));
        write(Event.newBuilder().setWallTime(System.currentTimeMillis() / 1000.0).setStep(step).setSummary(summary).build());
    }

    private void write(Event event) {
        byte[] payload = event.toByteArray();
        ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong(payload.length);
        header.putInt(maskedCrc(header.array(), 0, 8));
        ByteBuffer footer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(maskedCrc(payload, 0, payload.length));
        try {
            out.write(header.array());
            out.write(payload);
            out.write(footer.array());
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file + " failed: " + e.getMessage(), e);
        }
    }

    /** TFRecord's masked CRC32C. */
    static int maskedCrc(byte[] data, int off, int len) {
        var crc = new CRC32C();
        crc.update(data, off, len);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + 0xa282ead8;
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
