// TestSupport: what every test target shares — fixture paths, running the built tools,
// reading .npy reference arrays, and comparing floats with a report of the worst differences.

import Foundation
import XCTest

/// Paths of the repository's test fixtures (Tests/Fixtures).
public enum Fixtures {
    /// Tests/Fixtures, found from this source file's location.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// A path below Tests/Fixtures.
    public static func path(_ relative: String) -> String {
        root.appendingPathComponent(relative).path
    }

    /// A fresh temporary directory, removed when the test ends.
    public static func temporaryDirectory(_ test: XCTestCase) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scgrn-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }
}

/// The result of running one of the built tools.
public struct ToolRun {
    public let status: Int32
    public let stdout: Data
    public let stderr: String
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public init(status: Int32, stdout: Data, stderr: String) {
        self.status = status; self.stdout = stdout; self.stderr = stderr
    }
}

/// Runs the package's executables (built beside the test bundle).
public enum Tools {
    /// The directory holding the built products (.build/<config>).
    public static var productsDirectory: URL {
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL
    }

    /// Runs `tool` with `arguments`, feeding `stdin` (or /dev/null), and collects its output.
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String], stdin: Data? = nil,
                           environment: [String: String]? = nil) throws -> ToolRun {
        let exe = productsDirectory.appendingPathComponent(tool)
        guard FileManager.default.isExecutableFile(atPath: exe.path) else {
            throw NSError(domain: "TestSupport", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(exe.path) is not built: run `swift build` first"])
        }
        let p = Process()
        p.executableURL = exe
        p.arguments = arguments
        if let environment { p.environment = environment }
        let outPipe = Pipe(), errPipe = Pipe()
        p.standardOutput = outPipe
        p.standardError = errPipe
        let inPipe = Pipe()
        p.standardInput = stdin == nil ? FileHandle(forReadingAtPath: "/dev/null") : inPipe
        try p.run()
        // Read both outputs concurrently so a full pipe never blocks the child.
        final class Box: @unchecked Sendable { var data = Data() }
        let out = Box(), err = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { out.data = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { err.data = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if let stdin {
            inPipe.fileHandleForWriting.write(stdin)
            try? inPipe.fileHandleForWriting.close()
        }
        group.wait()
        p.waitUntilExit()
        return ToolRun(status: p.terminationStatus, stdout: out.data, stderr: String(decoding: err.data, as: UTF8.self))
    }
}

/// A NumPy .npy array (format versions 1–3, little-endian f4/f8/i4/i8/u1, C order).
public struct NPYArray {
    public let shape: [Int]
    public let descr: String
    let raw: Data

    public init(path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard data.count >= 10, data.prefix(6) == Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) else {
            throw NSError(domain: "NPY", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(path): not an .npy file"])
        }
        let major = data[6]
        let headerLen: Int
        let start: Int
        if major == 1 {
            headerLen = Int(data[8]) | Int(data[9]) << 8
            start = 10
        } else {
            headerLen = Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
            start = 12
        }
        let header = String(decoding: data[start..<(start + headerLen)], as: UTF8.self)
        func field(_ key: String) -> String {
            guard let r = header.range(of: "'\(key)':") else { return "" }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        let d = field("descr")
        descr = String(d.dropFirst().prefix { $0 != "'" })
        precondition(!field("fortran_order").hasPrefix("True"), "\(path): Fortran order is not supported")
        let s = field("shape")
        let inner = s.dropFirst().prefix { $0 != ")" }
        shape = inner.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        raw = data.subdata(in: (start + headerLen)..<data.count)
    }

    public var count: Int { shape.reduce(1, *) }

    /// The values as Float (from f4, f8 or integer arrays).
    public var floats: [Float] {
        switch descr {
        case "<f4": return raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self).prefix(count)) }
        case "<f8": return doubles.map(Float.init)
        default: return int64s.map { Float($0) }
        }
    }

    public var doubles: [Double] {
        switch descr {
        case "<f8": return raw.withUnsafeBytes { Array($0.bindMemory(to: Double.self).prefix(count)) }
        case "<f4": return floats.map(Double.init)
        default: return int64s.map { Double($0) }
        }
    }

    public var int64s: [Int64] {
        switch descr {
        case "<i8": return raw.withUnsafeBytes { Array($0.bindMemory(to: Int64.self).prefix(count)) }
        case "<i4": return raw.withUnsafeBytes { $0.bindMemory(to: Int32.self).prefix(count).map(Int64.init) }
        case "|u1", "<u1": return raw.map(Int64.init)
        default: preconditionFailure("NPY: \(descr) is not an integer type")
        }
    }
}

/// Compares two float arrays elementwise: |a - b| ≤ atol + rtol·|b| everywhere and
/// max |a - b| ≤ maxAbs. On failure it reports the max difference and the first mismatches.
/// - Returns: the max absolute difference (to print in test logs and closing notes).
@discardableResult
public func assertClose(_ actual: [Float], _ expected: [Float], atol: Float, rtol: Float = 0,
                        maxAbs: Float? = nil, _ label: String,
                        file: StaticString = #filePath, line: UInt = #line) -> Float {
    guard actual.count == expected.count else {
        XCTFail("\(label): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return .infinity
    }
    var worst: Float = 0
    var bad = [(Int, Float, Float)]()
    var badCount = 0
    for i in 0..<actual.count {
        let d = abs(actual[i] - expected[i])
        if !(d <= worst) { worst = d.isNaN ? .infinity : max(worst, d) }
        if !(d <= atol + rtol * abs(expected[i])) {
            badCount += 1
            if bad.count < 5 { bad.append((i, actual[i], expected[i])) }
        }
    }
    let limit = maxAbs ?? .infinity
    if badCount > 0 || worst > limit {
        let list = bad.map { "[\($0.0)] got \($0.1) want \($0.2)" }.joined(separator: ", ")
        XCTFail("\(label): max abs diff \(worst) (limit \(limit)); \(badCount) of \(actual.count) outside atol \(atol) + rtol \(rtol)·|ref|: \(list)",
                file: file, line: line)
    }
    print("\(label): max abs diff \(worst) over \(actual.count) values")
    return worst
}
