// CurvePlot: the ROC and precision–recall curves of a --truth run as one self-contained SVG.
//
// Two square panels side by side. ROC: the tie-grouped points joined by straight lines (the
// trapezoids AUROC sums), with the chance diagonal. Precision–recall: the step function whose area
// is the average precision (precision Pₙ held over the recall interval (Rₙ₋₁, Rₙ]), with the
// positive fraction (a random ranking) as a dashed line. Points closer than half a pixel to the
// last drawn one are skipped, so large runs stay small files; the output is deterministic.
// The title names the data and the truth; a line under it gives the counts; each panel has a
// legend (the method and its AUROC, or its AUPRC and EPR; the random baseline).

import Foundation
import Metrics

enum CurvePlot {
    static let panel = 360.0       // plot area side, px
    static let margin = 56.0       // left and bottom margin for axes
    static let gap = 48.0          // between the panels
    static let top = 64.0          // above the plot areas (title, counts, panel titles)

    /// The SVG document for a ranking's curves.
    /// - Parameters:
    ///   - title: names the data and the truth.
    ///   - method: the ranked method's name in the legends ("model", or a --ranked file's name).
    static func svg(_ ranking: BinaryRanking, title: String, method: String = "model") -> String {
        let s = ranking.summary
        let width = margin + panel + gap + margin + panel + 16
        let height = top + panel + margin
        var out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <title>\(xml(title))</title>
        <rect width="100%" height="100%" fill="white"/>

        """
        let rocX = margin, prX = margin + panel + gap + margin
        out += axes(x0: rocX, xLabel: "false positive rate", yLabel: "true positive rate",
                    title: "ROC  (AUROC \(MetricsReport.number(s.auroc)))")
        out += legend(x0: rocX, y0: top + panel - 48, [
            ("#1f77b4", "", "\(method) (AUROC \(MetricsReport.number(s.auroc, digits: 3)))"),
            ("#999", "4 4", "random (AUROC 0.500)")])
        out += line(x0: rocX, [(0, 0), (1, 1)], style: "stroke=\"#999\" stroke-dasharray=\"4 4\"")
        out += polyline(x0: rocX, thin(ranking.rocCurve.map { ($0.fpr, $0.tpr) }), color: "#1f77b4")

        out += axes(x0: prX, xLabel: "recall", yLabel: "precision",
                    title: "Precision–recall  (AUPRC \(MetricsReport.number(s.auprc)), EPR \(MetricsReport.number(s.earlyPrecisionRatio, digits: 2)))")
        out += legend(x0: prX, y0: top + 8, [
            ("#d62728", "", "\(method) (AUPRC \(MetricsReport.number(s.auprc, digits: 3)), EPR \(MetricsReport.number(s.earlyPrecisionRatio, digits: 2)))"),
            ("#999", "4 4", "random (precision \(MetricsReport.number(s.positiveFraction, digits: 3)))")])
        let base = s.positiveFraction ?? 0
        out += line(x0: prX, [(0, base), (1, base)], style: "stroke=\"#999\" stroke-dasharray=\"4 4\"")
        var steps = [(Double, Double)]()
        for (i, p) in ranking.precisionRecallCurve.enumerated() {
            if i > 0 { steps.append((steps.last!.0, p.precision)) }
            steps.append((p.recall, p.precision))
        }
        out += polyline(x0: prX, thin(steps), color: "#d62728")
        out += "<text x=\"\(f(width / 2))\" y=\"16\" text-anchor=\"middle\" font-size=\"13\">\(xml(title))</text>\n"
        let counts = "\(s.count) pairs evaluated: \(s.positives) positive, \(s.negatives) negative"
        out += "<text x=\"\(f(width / 2))\" y=\"34\" text-anchor=\"middle\" fill=\"#444\">\(xml(counts))</text>\n"
        out += "</svg>\n"
        return out
    }

    static func f(_ x: Double) -> String { String(format: "%.2f", x) }

    /// A legend box at (x0 + 10, y0) inside a panel: one sample line and label per entry.
    static func legend(x0: Double, y0: Double, _ entries: [(color: String, dash: String, label: String)]) -> String {
        let x = x0 + panel - 250, h = 8.0 + 18 * Double(entries.count)
        var s = "<rect x=\"\(f(x))\" y=\"\(f(y0))\" width=\"240\" height=\"\(f(h))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n"
        for (i, e) in entries.enumerated() {
            let y = y0 + 15 + 18 * Double(i)
            let dash = e.dash.isEmpty ? "" : " stroke-dasharray=\"\(e.dash)\""
            s += "<line x1=\"\(f(x + 8))\" y1=\"\(f(y - 4))\" x2=\"\(f(x + 32))\" y2=\"\(f(y - 4))\" stroke=\"\(e.color)\" stroke-width=\"1.5\"\(dash)/>"
            s += "<text x=\"\(f(x + 38))\" y=\"\(f(y))\" font-size=\"11\">\(xml(e.label))</text>\n"
        }
        return s
    }

    static func xml(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Pixel position of a point in the panel whose left edge is x0.
    static func px(_ x0: Double, _ p: (Double, Double)) -> (Double, Double) {
        (x0 + p.0 * panel, top + (1 - p.1) * panel)
    }

    /// Drops points within half a pixel of the last kept one (the last point is always kept).
    static func thin(_ pts: [(Double, Double)]) -> [(Double, Double)] {
        guard pts.count > 2 else { return pts }
        var out = [pts[0]]
        for p in pts.dropFirst().dropLast() {
            let q = out.last!
            if abs(p.0 - q.0) * panel >= 0.5 || abs(p.1 - q.1) * panel >= 0.5 { out.append(p) }
        }
        out.append(pts.last!)
        return out
    }

    static func polyline(x0: Double, _ pts: [(Double, Double)], color: String) -> String {
        let coords = pts.map { p -> String in let (x, y) = px(x0, p); return f(x) + "," + f(y) }.joined(separator: " ")
        return "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(coords)\"/>\n"
    }

    static func line(x0: Double, _ pts: [(Double, Double)], style: String) -> String {
        let (x1, y1) = px(x0, pts[0]), (x2, y2) = px(x0, pts[1])
        return "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" \(style)/>\n"
    }

    /// The frame, ticks at 0, 0.2, …, 1, axis labels and the panel title.
    static func axes(x0: Double, xLabel: String, yLabel: String, title: String) -> String {
        var s = "<rect x=\"\(f(x0))\" y=\"\(f(top))\" width=\"\(f(panel))\" height=\"\(f(panel))\" fill=\"none\" stroke=\"black\"/>\n"
        for t in stride(from: 0.0, through: 1.0001, by: 0.2) {
            let (tx, _) = px(x0, (t, 0)), (_, ty) = px(x0, (0, t))
            let label = String(format: "%.1f", t)
            s += "<line x1=\"\(f(tx))\" y1=\"\(f(top + panel))\" x2=\"\(f(tx))\" y2=\"\(f(top + panel + 5))\" stroke=\"black\"/>"
            s += "<text x=\"\(f(tx))\" y=\"\(f(top + panel + 18))\" text-anchor=\"middle\">\(label)</text>\n"
            s += "<line x1=\"\(f(x0 - 5))\" y1=\"\(f(ty))\" x2=\"\(f(x0))\" y2=\"\(f(ty))\" stroke=\"black\"/>"
            s += "<text x=\"\(f(x0 - 8))\" y=\"\(f(ty + 4))\" text-anchor=\"end\">\(label)</text>\n"
        }
        s += "<text x=\"\(f(x0 + panel / 2))\" y=\"\(f(top + panel + 38))\" text-anchor=\"middle\">\(xml(xLabel))</text>\n"
        s += "<text transform=\"translate(\(f(x0 - 40)),\(f(top + panel / 2))) rotate(-90)\" text-anchor=\"middle\">\(xml(yLabel))</text>\n"
        s += "<text x=\"\(f(x0 + panel / 2))\" y=\"\(f(top - 8))\" text-anchor=\"middle\">\(xml(title))</text>\n"
        return s
    }
}
