package io.cohx.coh.observe;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Draws the loss curves of a run (from its {@code metrics.jsonl}) into a PNG with plain Java 2D:
 * one line per series (train hf_loss, train pt_loss, eval hf_loss...), step on x, loss on y.
 * Works headless. The PNG is written to a temp name and renamed.
 */
public final class LossPlot {
    private LossPlot() {}

    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
            new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b)};

    /** Series to draw: every metric whose name ends in "loss", per split. */
    public static Map<String, List<double[]>> series(List<MetricsLog.Record> records) {
        var out = new LinkedHashMap<String, List<double[]>>();
        for (var r : records) {
            for (var e : r.values().entrySet()) {
                if (e.getKey().endsWith("loss") && e.getValue() instanceof Number n && Double.isFinite(n.doubleValue())) {
                    out.computeIfAbsent(r.split() + " " + e.getKey(), k -> new ArrayList<>()).add(new double[] {r.step(), n.doubleValue()});
                }
            }
        }
        return out;
    }

    /** Renders {@code metrics} (a metrics.jsonl) to {@code png}; returns the number of series drawn. */
    public static int write(Path metrics, Path png, String title) throws IOException {
        var series = series(MetricsLog.read(metrics));
        if (series.isEmpty()) {
            throw new IOException(metrics + " has no loss values to plot yet");
        }
        int w = 900, h = 540, left = 80, right = 200, top = 50, bottom = 60;
        double minX = Double.MAX_VALUE, maxX = -Double.MAX_VALUE, minY = Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
        for (var pts : series.values()) {
            for (double[] p : pts) {
                minX = Math.min(minX, p[0]);
                maxX = Math.max(maxX, p[0]);
                minY = Math.min(minY, p[1]);
                maxY = Math.max(maxY, p[1]);
            }
        }
        if (maxX == minX) {
            maxX = minX + 1;
        }
        if (maxY == minY) {
            maxY = minY + 1;
        }
        double pad = (maxY - minY) * 0.05;
        minY -= pad;
        maxY += pad;
        var img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, w, h);
            int pw = w - left - right, ph = h - top - bottom;
            g.setColor(new Color(0xdddddd));
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (int i = 0; i <= 5; i++) {
                int y = top + ph - i * ph / 5;
                g.setColor(new Color(0xeeeeee));
                g.drawLine(left, y, left + pw, y);
                g.setColor(Color.DARK_GRAY);
                g.drawString(String.format(Locale.ROOT, "%.3g", minY + (maxY - minY) * i / 5), 10, y + 4);
                int x = left + i * pw / 5;
                g.drawString(String.format(Locale.ROOT, "%.0f", minX + (maxX - minX) * i / 5), x - 10, top + ph + 20);
            }
            g.setColor(Color.BLACK);
            g.drawRect(left, top, pw, ph);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            g.drawString(title, left, 30);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.drawString("step", left + pw / 2 - 10, h - 20);
            int k = 0;
            for (var e : series.entrySet()) {
                Color c = COLORS[k % COLORS.length];
                g.setColor(c);
                g.setStroke(new BasicStroke(2f));
                List<double[]> pts = e.getValue();
                for (int i = 1; i < pts.size(); i++) {
                    g.drawLine(px(pts.get(i - 1)[0], minX, maxX, left, pw), py(pts.get(i - 1)[1], minY, maxY, top, ph),
                            px(pts.get(i)[0], minX, maxX, left, pw), py(pts.get(i)[1], minY, maxY, top, ph));
                }
                if (pts.size() == 1) {
                    g.fillOval(px(pts.getFirst()[0], minX, maxX, left, pw) - 3, py(pts.getFirst()[1], minY, maxY, top, ph) - 3, 6, 6);
                }
                int ly = top + 20 + 20 * k;
                g.fillRect(left + pw + 15, ly - 8, 14, 4);
                g.setColor(Color.BLACK);
                g.drawString(e.getKey(), left + pw + 35, ly - 2);
                k++;
            }
        } finally {
            g.dispose();
        }
        Path tmp = png.resolveSibling(png.getFileName() + ".tmp");
        if (!ImageIO.write(img, "png", tmp.toFile())) {
            throw new IOException("no PNG writer available");
        }
        Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return series.size();
    }

    private static int px(double x, double min, double max, int left, int pw) {
        return left + (int) Math.round((x - min) / (max - min) * pw);
    }

    private static int py(double y, double min, double max, int top, int ph) {
        return top + ph - (int) Math.round((y - min) / (max - min) * ph);
    }
}
