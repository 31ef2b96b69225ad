// JSONText: writing JSON strings by hand, for the few places scgrn writes JSON
// (safetensors headers, score's metrics), so the output is byte-stable.

import Foundation

public enum JSONText {
    /// `s` as a quoted JSON string, with the escapes JSON requires.
    public static func quoted(_ s: String) -> String {
        var r = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": r += "\\\""
            case "\\": r += "\\\\"
            case "\n": r += "\\n"
            case "\r": r += "\\r"
            case "\t": r += "\\t"
            default:
                if u.value < 0x20 { r += String(format: "\\u%04x", u.value) } else { r.unicodeScalars.append(u) }
            }
        }
        return r + "\""
    }
}
