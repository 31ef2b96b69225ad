// Progress: `[tool] 12,000 cells, 3,400 cells/s, ETA 0:07` on stderr for long work.
//
// Shown when stderr is a terminal or -v was given, never with -q; at most one line a second
// (overwritten in place on a terminal).

import Foundation

public final class Progress {
    let unit: String
    /// The expected count, for an ETA; may grow as work is found (concatenated shards).
    public var total: Int?
    let start = Date()
    var lastPrint = Date.distantPast
    public private(set) var done = 0
    let enabled: Bool
    let inPlace: Bool
    var printed = false

    /// - Parameters:
    ///   - unit: what is counted ("cells", "steps").
    ///   - total: the expected count, for an ETA, when known.
    public init(unit: String, total: Int? = nil) {
        self.unit = unit
        self.total = total
        enabled = Diagnostics.verbosity >= 1 || (Diagnostics.verbosity >= 0 && Diagnostics.stderrIsTerminal)
        inPlace = Diagnostics.stderrIsTerminal
    }

    /// Counts `n` more units done.
    public func advance(by n: Int = 1) {
        done += n
        guard enabled else { return }
        let now = Date()
        if now.timeIntervalSince(lastPrint) >= 1 {
            lastPrint = now
            emit(now, final: false)
        }
    }

    /// Prints the final count and rate (with -v, or to clear the terminal line).
    public func finish() {
        guard enabled else { return }
        if Diagnostics.verbosity >= 1 || printed { emit(Date(), final: true) }
    }

    static func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, ch) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return String(out.reversed())
    }

    func emit(_ now: Date, final: Bool) {
        let secs = max(now.timeIntervalSince(start), 1e-9)
        let rate = Double(done) / secs
        var line = "[\(Diagnostics.tool)] \(Progress.grouped(done))"
        if let total { line += "/\(Progress.grouped(total))" }
        line += " \(unit), \(Progress.grouped(Int(rate))) \(unit)/s"
        if final {
            line += String(format: ", %.1f s", secs)
        } else if let total, rate > 0, done < total {
            let eta = Int(Double(total - done) / rate)
            line += String(format: ", ETA %d:%02d", eta / 60, eta % 60)
        }
        printed = true
        if inPlace {
            Diagnostics.writeRaw("\r\u{1B}[K" + line + (final ? "\n" : ""))
        } else {
            Diagnostics.writeLine(line)
        }
    }
}

extension Diagnostics {
    /// Writes text to stderr with no newline (for in-place progress).
    public static func writeRaw(_ s: String) {
        var t = s
        t.withUTF8 { u in _ = Foundation.write(2, u.baseAddress, u.count) }
    }
}
