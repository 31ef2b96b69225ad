// Text in messages: input quoted briefly and visibly (excerpt), articles (withArticle), and
// fields trimmed as Foundation trims them (trimmedText).

import Foundation
import ToolKit
import XCTest

final class MessageTextTests: XCTestCase {
    func testExcerptKeepsEightyBytesAndOneLine() {
        XCTAssertEqual(excerpt("GATA1"), "GATA1")
        XCTAssertEqual(excerpt(String(repeating: "a", count: 80)), String(repeating: "a", count: 80))
        XCTAssertEqual(excerpt(String(repeating: "a", count: 300_000)), String(repeating: "a", count: 80) + "… (300000 bytes)")
        // Cut on a character boundary: 26 three-byte characters (78 bytes) fit in 80.
        XCTAssertEqual(excerpt(String(repeating: "€", count: 30)), String(repeating: "€", count: 26) + "… (90 bytes)")
        XCTAssertEqual(excerpt("a\tb\r\nc\u{0}d\u{7F}"), "a\\tb\\r\\nc\\x00d\\x7F")
        XCTAssertEqual(excerpt(bytes: [UInt8](repeating: 0, count: 3)), "\\x00\\x00\\x00")
        // What is shown counts: 20 escaped NULs fill the 80 bytes.
        XCTAssertEqual(excerpt(String(repeating: "\u{0}", count: 100)), String(repeating: "\\x00", count: 20) + "… (100 bytes)")
        XCTAssertEqual(excerpt(bytes: [UInt8](repeating: 0x41, count: 1000)), String(repeating: "A", count: 80) + "…")
        XCTAssertEqual(excerpt(bytes: [0x41, 0xFF, 0x42]), "A\u{FFFD}B")
    }

    func testArticles() {
        XCTAssertEqual(withArticle("END"), "an END")
        XCTAssertEqual(withArticle("int"), "an int")
        XCTAssertEqual(withArticle("CELL"), "a CELL")
    }

    func testTrimmedTextAgreesWithFoundation() {
        for text in ["  GATA1\t", "GATA1", "", " \t ", "\u{A0}GATA1\u{3000}", " é ", "a b", "\u{A0}", "x\u{A0}"] {
            let bytes = Array(text.utf8)
            let trimmed = bytes.withUnsafeBufferPointer { trimmedText($0) }
            XCTAssertEqual(trimmed, text.trimmingCharacters(in: .whitespaces), "'\(text)'")
        }
        // Invalid UTF-8 is repaired as String(decoding:) repairs it, the blanks still trimmed.
        XCTAssertEqual([0x20, 0xFF, 0x41, 0x20].withUnsafeBufferPointer { trimmedText($0) }, "\u{FFFD}A")
    }
}
