package io.cohx.coh.observe;

import io.cohx.coh.observe.proto.TensorBoardProtos.Event;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Metrics JSONL, TensorBoard event files, the progress line and the loss plot, on real files. */
class ObserveTest {

    /** Reads a TFRecord file back, checking both CRCs of every record. */
    static List<Event> readEvents(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        var out = new ArrayList<Event>();
        while (b.hasRemaining()) {
            byte[] len = new byte[8];
            b.get(len);
            long n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(TensorBoardWriter.maskedCrc(len, 0, 8), b.getInt(), "length CRC");
            byte[] payload = new byte[(int) n];
            b.get(payload);
            assertEquals(TensorBoardWriter.maskedCrc(payload, 0, payload.length), b.getInt(), "payload CRC");
            out.add(Event.parseFrom(payload));
        }
        return out;
    }

    @Test
    void tensorBoardEventsAreFramedAndReadable(@TempDir Path dir) throws IOException {
        Path file;
        try (var tb = new TensorBoardWriter(dir)) {
            tb.scalars(1, Map.of("hf_loss", 2.5));
            tb.scalars(2, Map.of("hf_loss", 2.25, "learning_rate", 1e-4));
            file = tb.file();
        }
        assertTrue(file.getFileName().toString().startsWith("events.out.tfevents."));
        var events = readEvents(file);
        assertEquals(3, events.size());
        assertEquals("brain.Event:2", events.getFirst().getFileVersion());
        assertEquals(2, events.get(2).getStep());
        var tags = events.get(2).getSummary().getValueList().stream().map(v -> v.getTag() + "=" + v.getSimpleValue()).sorted().toList();
        assertEquals(List.of("hf_loss=2.25", "learning_rate=1.0E-4"), tags);
    }

    @Test
    void maskedCrcMatchesTheKnownValue() {
        // CRC32C("123456789") = 0xE3069283 (the standard check value); masked as TFRecord does.
        int c = 0xE3069283;
        int masked = ((c >>> 15) | (c << 17)) + 0xa282ead8;
        byte[] data = "123456789".getBytes(StandardCharsets.US_ASCII);
        assertEquals(masked, TensorBoardWriter.maskedCrc(data, 0, data.length));
    }

    @Test
    void metricsAppendAndResumeDropsLaterSteps(@TempDir Path dir) throws IOException {
        try (var log = new MetricsLog(dir, -1)) {
            for (int s = 1; s <= 5; s++) {
                log.log(s, "train", Map.of("hf_loss", 3.0 - s * 0.1));
            }
            log.log(5, "eval", Map.of("hf_loss", 2.9, "bad", Double.NaN));
        }
        var all = MetricsLog.read(dir.resolve("metrics.jsonl"));
        assertEquals(6, all.size());
        assertEquals("eval", all.get(5).split());
        assertTrue(Double.isNaN(all.get(5).get("bad")));
        assertEquals("NaN", all.get(5).values().get("bad"));
        try (var log = new MetricsLog(dir, 3)) {
            log.log(4, "train", Map.of("hf_loss", 1.0));
        }
        var resumed = MetricsLog.read(dir.resolve("metrics.jsonl"));
        assertEquals(List.of(1L, 2L, 3L, 4L), resumed.stream().map(MetricsLog.Record::step).toList());
        assertEquals(1.0, resumed.get(3).get("hf_loss"));
    }

    @Test
    void malformedMetricsLineNamesFileAndLine(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("metrics.jsonl"), "{\"step\": 1, \"hf_loss\": 2}\nnot json\n{\"step\": 3}\n");
        var e = assertThrows(IOException.class, () -> MetricsLog.read(f));
        assertTrue(e.getMessage().startsWith(f + ":2: not a JSON object"), e.getMessage());
        // A torn last line (a crash mid-write) is ignored.
        Path g = Files.writeString(dir.resolve("m2.jsonl"), "{\"step\": 1, \"hf_loss\": 2}\n{\"step\": 2, \"hf_lo");
        assertEquals(1, MetricsLog.read(g).size());
    }

    @Test
    void progressLineIsPlainWithoutATerminalAndRedrawsOnOne() {
        var plain = new ByteArrayOutputStream();
        var p = new ProgressLine(new PrintStream(plain, true, StandardCharsets.UTF_8), false, 0, 100);
        var m = new LinkedHashMap<String, Double>();
        m.put("hf_loss", 2.345678);
        p.report(10, m, 4096);
        p.report(20, m, 8192);
        p.finish();
        String text = plain.toString(StandardCharsets.UTF_8);
        assertEquals(2, text.lines().count());
        assertFalse(text.contains("\r"));
        assertTrue(text.lines().toList().getFirst().startsWith("step 10/100  hf_loss 2.346  "), text);
        assertTrue(text.contains("tok/s") && text.contains("ETA "), text);

        var tty = new ByteArrayOutputStream();
        var q = new ProgressLine(new PrintStream(tty, true, StandardCharsets.UTF_8), true, 0, 100);
        q.report(10, m, 4096);
        q.report(20, m, 8192);
        q.finish();
        String t = tty.toString(StandardCharsets.UTF_8);
        assertEquals(2, t.chars().filter(ch -> ch == '\r').count());
        assertTrue(t.endsWith(System.lineSeparator()));
    }

    @Test
    void lossPlotDrawsEachSeries(@TempDir Path dir) throws IOException {
        try (var log = new MetricsLog(dir, -1)) {
            for (int s = 1; s <= 50; s++) {
                log.log(s, "train", Map.of("hf_loss", 5.0 / s, "pt_loss", 4.0, "learning_rate", 1e-3));
                if (s % 10 == 0) {
                    log.log(s, "eval", Map.of("hf_loss", 5.5 / s));
                }
            }
        }
        Path png = dir.resolve("loss.png");
        int n = LossPlot.write(dir.resolve("metrics.jsonl"), png, "demo run");
        assertEquals(3, n, "train hf_loss, train pt_loss, eval hf_loss");
        var img = ImageIO.read(png.toFile());
        assertEquals(LossPlot.WIDTH, img.getWidth());
        assertEquals(LossPlot.HEIGHT, img.getHeight());
        assertTrue(pixelsOf(img, LossPlot.COLORS[0]) > 200, "the first series is drawn");
        assertTrue(pixelsOf(img, LossPlot.COLORS[2]) > 50, "the eval series is drawn");
        Path empty = Files.writeString(dir.resolve("empty.jsonl"), "{\"step\": 1, \"learning_rate\": 0.1}\n");
        var e = assertThrows(IOException.class, () -> LossPlot.write(empty, dir.resolve("x.png"), "x"));
        assertTrue(e.getMessage().contains("no loss values"), e.getMessage());
    }

    /** Pixels within a small distance of {@code c} (lines are anti-aliased). */
    private static int pixelsOf(java.awt.image.BufferedImage img, java.awt.Color c) {
        int n = 0;
        for (int x = 0; x < img.getWidth(); x++) {
            for (int y = 0; y < img.getHeight(); y++) {
                int rgb = img.getRGB(x, y);
                int d = Math.abs(((rgb >> 16) & 0xff) - c.getRed()) + Math.abs(((rgb >> 8) & 0xff) - c.getGreen())
                        + Math.abs((rgb & 0xff) - c.getBlue());
                if (d < 30) {
                    n++;
                }
            }
        }
        return n;
    }

    /**
     * A 4-step run: the x axis labels each step once ("1 2 3 4", not "1 2 2 3 3 4" from ticks
     * between steps rounded), eval points carry markers and train lines none.
     */
    @Test
    void shortRunsLabelEachStepOnceAndMarkEvaluations(@TempDir Path dir) throws IOException {
        try (var log = new MetricsLog(dir, -1)) {
            for (int s = 1; s <= 4; s++) {
                log.log(s, "train", Map.of("hf_loss", 5.0 / s));
            }
            log.log(2, "eval", Map.of("hf_loss", 3.0));
            log.log(4, "eval", Map.of("hf_loss", 2.0));
        }
        var chart = LossPlot.chart(LossPlot.series(MetricsLog.read(dir.resolve("metrics.jsonl"))), "short");
        var ticks = new java.util.TreeSet<Double>();
        chart.setCustomXAxisTickLabelsFormatter(x -> {
            ticks.add(x);
            return LossPlot.stepLabel(x);
        });
        var g = new java.awt.image.BufferedImage(LossPlot.WIDTH, LossPlot.HEIGHT, java.awt.image.BufferedImage.TYPE_INT_RGB).createGraphics();
        chart.paint(g, LossPlot.WIDTH, LossPlot.HEIGHT);
        g.dispose();
        var labels = ticks.stream().map(LossPlot::stepLabel).filter(l -> !l.isEmpty()).toList();
        assertEquals(java.util.List.of("1", "2", "3", "4"), labels, "ticks " + ticks);
        assertEquals(org.knowm.xchart.style.markers.SeriesMarkers.NONE, chart.getSeriesMap().get("train hf_loss").getMarker());
        assertEquals(org.knowm.xchart.style.markers.SeriesMarkers.CIRCLE, chart.getSeriesMap().get("eval hf_loss").getMarker());
    }
}
