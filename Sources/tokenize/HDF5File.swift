// HDF5File: a read-only HDF5 file seen through libhdf5 as tokenize needs it — which objects
// exist, their string and integer attributes, and 1-D or 2-D datasets read a slice at a time
// as float64, int64 or strings.
//
// All pointer and handle code stays in this file. Every error is a ToolError.badInput naming
// the user's file and the HDF5 path (`pbmc.h5ad: /X/indptr: …`). Sizes read from the file are
// bounded before anything is allocated. libhdf5 (the serial build) is not thread-safe: only
// the reading thread uses these types.

import CHDF5
import Foundation
import ToolKit

/// The 8-byte HDF5 signature, found at offset 0 or, after a user block, at 512, 1024, 2048, …
enum HDF5Signature {
    static let bytes: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Whether the regular file at `path` is an HDF5 file (by its signature, never its name).
    static func matches(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd() else { return false }
        var offset: UInt64 = 0
        while offset + 8 <= size {
            guard (try? handle.seek(toOffset: offset)) != nil, let head = try? handle.read(upToCount: 8) else { return false }
            if Array(head) == bytes { return true }
            offset = offset == 0 ? 512 : offset * 2
        }
        return false
    }
}

final class HDF5File {
    /// The file as the user named it (for messages).
    let name: String
    let id: hid_t

    /// Strings per name list at most (genes, categories): bounds what a damaged file can make us allocate.
    static let maxNames = 1 << 24
    /// Bytes per fixed-length string at most.
    static let maxStringBytes = 1 << 16

    init(path: String) throws {
        name = path
        scgrn_h5_silence()
        id = scgrn_h5_open_readonly(path)
        if id < 0 { throw ToolError.data(path, "cannot open as HDF5 (truncated or damaged file?)") }
    }

    deinit { H5Fclose(id) }

    /// An error about the object at `path` in this file.
    func fail(_ path: String, _ message: String) -> ToolError {
        .badInput(file: name, line: nil, message: "\(HDF5File.absolute(path)): \(message)")
    }

    static func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : "/" + path }

    // MARK: - Objects

    enum Kind { case group, dataset, other }

    /// What is at `path`, or nil when nothing is (each component is checked, as libhdf5 requires).
    func kind(_ path: String) -> Kind? {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if H5Lexists(id, prefix, scgrn_h5_default()) <= 0 { return nil }
        }
        if prefix.isEmpty { return .group }
        let object = H5Oopen(id, prefix, scgrn_h5_default())
        if object < 0 { return nil }
        defer { H5Oclose(object) }
        switch H5Iget_type(object) {
        case H5I_GROUP: return .group
        case H5I_DATASET: return .dataset
        default: return .other
        }
    }

    func exists(_ path: String) -> Bool { kind(path) != nil }

    /// The names of a group's members, in name order.
    func members(of path: String) throws -> [String] {
        let group = H5Gopen2(id, HDF5File.absolute(path), scgrn_h5_default())
        if group < 0 { throw fail(path, "cannot open this group") }
        defer { H5Gclose(group) }
        var info = H5G_info_t()
        if H5Gget_info(group, &info) < 0 { throw fail(path, "cannot list this group") }
        if info.nlinks > UInt64(HDF5File.maxNames) { throw fail(path, "\(info.nlinks) members: too many") }
        var names: [String] = []
        for i in 0..<info.nlinks {
            let length = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, scgrn_h5_default())
            if length < 0 || length > HDF5File.maxStringBytes { throw fail(path, "cannot list this group") }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            _ = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, scgrn_h5_default())
            names.append(String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    // MARK: - Attributes

    /// Opens the attribute `attribute` of the object at `path` with its type and dataspace,
    /// passes them to `body` and closes them; nil when there is no such attribute.
    private func withAttribute<T>(_ attribute: String, of path: String,
                                  _ body: (_ attr: hid_t, _ type: hid_t, _ space: hid_t) throws -> T?) throws -> T? {
        let objectPath = HDF5File.absolute(path)
        guard H5Aexists_by_name(id, objectPath, attribute, scgrn_h5_default()) > 0 else { return nil }
        let attr = H5Aopen_by_name(id, objectPath, attribute, scgrn_h5_default(), scgrn_h5_default())
        if attr < 0 { throw fail(path, "cannot open attribute '\(attribute)'") }
        defer { H5Aclose(attr) }
        let type = H5Aget_type(attr)
        defer { H5Tclose(type) }
        let space = H5Aget_space(attr)
        defer { H5Sclose(space) }
        return try body(attr, type, space)
    }

    /// The attribute `attribute` of the object at `path` as one string (the first, for an
    /// array), or nil when there is no such attribute or it is not a string.
    func stringAttribute(_ attribute: String, of path: String) throws -> String? {
        try withAttribute(attribute, of: path) { attr, type, space in
            guard H5Tget_class(type) == H5T_STRING else { return nil }
            let count = Int(H5Sget_simple_extent_npoints(space))
            guard count >= 1 && count <= HDF5File.maxNames else { return nil }
            let strings = try HDF5File.readStrings(fileType: type, count: count, space: space, what: { self.fail(path, $0) }) { memType, buffer in
                H5Aread(attr, memType, buffer)
            }
            return strings.first
        }
    }

    /// An integer attribute (e.g. a sparse matrix's `shape`), or nil when absent.
    func integerAttribute(_ attribute: String, of path: String) throws -> [Int64]? {
        try withAttribute(attribute, of: path) { attr, type, space in
            guard H5Tget_class(type) == H5T_INTEGER else { throw fail(path, "attribute '\(attribute)' is not an integer") }
            let count = Int(H5Sget_simple_extent_npoints(space))
            guard count >= 1 && count <= 64 else { throw fail(path, "attribute '\(attribute)' has \(count) values") }
            var values = [Int64](repeating: 0, count: count)
            if H5Aread(attr, scgrn_h5t_int64(), &values) < 0 { throw fail(path, "cannot read attribute '\(attribute)'") }
            return values
        }
    }

    // MARK: - Strings

    /// Reads `count` strings of file type `fileType` through `read(memoryType, buffer)`:
    /// variable-length strings as the library allocates them (then freed), fixed-length ones
    /// cut at their first NUL (and trailing blanks, when space-padded).
    static func readStrings(fileType: hid_t, count: Int, space: hid_t, what fail: (String) -> ToolError,
                            read: (hid_t, UnsafeMutableRawPointer) -> herr_t) throws -> [String] {
        let memType = H5Tcopy(scgrn_h5t_c_s1())
        defer { H5Tclose(memType) }
        H5Tset_cset(memType, H5Tget_cset(fileType))
        if H5Tis_variable_str(fileType) > 0 {
            H5Tset_size(memType, scgrn_h5t_variable())
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            let status = pointers.withUnsafeMutableBytes { read(memType, $0.baseAddress!) }
            if status < 0 { throw fail("cannot read these strings (damaged file?)") }
            let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
            _ = pointers.withUnsafeMutableBytes { scgrn_h5_reclaim(memType, space, $0.baseAddress!) }
            return strings
        }
        let size = H5Tget_size(fileType)
        guard size >= 1 && size <= maxStringBytes else { throw fail("strings of \(size) bytes: not supported") }
        H5Tset_size(memType, size)
        // NUL-padded in memory: a NUL-terminated memory type would give up the last byte.
        H5Tset_strpad(memType, H5T_STR_NULLPAD)
        let spacePadded = H5Tget_strpad(fileType) == H5T_STR_SPACEPAD
        var bytes = [UInt8](repeating: 0, count: size * count)
        let status = bytes.withUnsafeMutableBytes { read(memType, $0.baseAddress!) }
        if status < 0 { throw fail("cannot read these strings (damaged file?)") }
        return (0..<count).map { i in
            var field = bytes[(i * size)..<((i + 1) * size)]
            if let nul = field.firstIndex(of: 0) { field = field[..<nul] }
            if spacePadded { while field.last == 0x20 { field = field.dropLast() } }
            return String(decoding: field, as: UTF8.self)
        }
    }
}

/// A dataset of a file: its shape and element class, read a slice at a time.
final class HDF5Dataset {
    let file: HDF5File
    let path: String
    let id: hid_t
    let type: hid_t
    /// The extent of each dimension (empty for a scalar).
    let shape: [Int]
    let typeClass: H5T_class_t

    init(_ file: HDF5File, _ path: String) throws {
        self.file = file
        self.path = HDF5File.absolute(path)
        id = H5Dopen2(file.id, self.path, scgrn_h5_default())
        if id < 0 { throw file.fail(path, "cannot open this dataset") }
        type = H5Dget_type(id)
        typeClass = H5Tget_class(type)
        let space = H5Dget_space(id)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0 && rank <= 32 else {
            H5Tclose(type); H5Dclose(id)
            throw file.fail(path, "cannot read its shape")
        }
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        H5Sget_simple_extent_dims(space, &dims, nil)
        shape = dims.prefix(rank).map { Int(clamping: $0) }
    }

    deinit {
        H5Tclose(type)
        H5Dclose(id)
    }

    var count: Int { shape.reduce(1, *) }

    func fail(_ message: String) -> ToolError { file.fail(path, message) }

    /// The element type in words, for messages.
    var typeDescription: String {
        switch typeClass {
        case H5T_INTEGER: return "integers"
        case H5T_FLOAT: return "floating-point numbers"
        case H5T_STRING: return "strings"
        case H5T_ENUM: return "an enumeration (booleans or categories)"
        case H5T_COMPOUND: return "records (a compound type)"
        default: return "HDF5 type class \(typeClass.rawValue)"
        }
    }

    var isNumeric: Bool { typeClass == H5T_INTEGER || typeClass == H5T_FLOAT }

    /// Requires a 1-D dataset (or, with `length`, one of that length).
    func requireVector(length: Int? = nil, _ what: String) throws {
        guard shape.count == 1 else { throw fail("\(what): expected one dimension, found \(shape.count)") }
        if let length, shape[0] != length { throw fail("\(what): \(shape[0]) values, expected \(length)") }
    }

    /// Selects the block `start` + `count` (per dimension) of the file and reads it as `memType`
    /// into `buffer`, which holds at least the product of `count` elements.
    private func read(start: [Int], count: [Int], memType: hid_t, into buffer: UnsafeMutableRawPointer) throws {
        precondition(start.count == shape.count && count.count == shape.count)
        if count.contains(0) { return }
        for d in 0..<shape.count where start[d] < 0 || count[d] < 0 || start[d] + count[d] > shape[d] {
            throw fail("internal error: a read beyond the dataset's extent")
        }
        let fileSpace = H5Dget_space(id)
        defer { H5Sclose(fileSpace) }
        let s = start.map { hsize_t($0) }, c = count.map { hsize_t($0) }
        if H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, s, nil, c, nil) < 0 { throw fail("cannot select a block") }
        let memSpace = H5Screate_simple(Int32(c.count), c, nil)
        defer { H5Sclose(memSpace) }
        if H5Dread(id, memType, memSpace, fileSpace, scgrn_h5_default(), buffer) < 0 {
            throw fail("read failed (damaged file, or compressed with a filter this libhdf5 lacks, such as lzf?)")
        }
    }

    /// Elements [start, start + count) of a 1-D numeric dataset, as float64.
    func doubles(_ start: Int, _ count: Int, into values: inout [Double]) throws {
        values.removeAll(keepingCapacity: true)
        values.append(contentsOf: repeatElement(0, count: count))
        try values.withUnsafeMutableBytes { try read(start: [start], count: [count], memType: scgrn_h5t_double(), into: $0.baseAddress!) }
    }

    /// Elements [start, start + count) of a 1-D integer dataset, as int64.
    func integers(_ start: Int, _ count: Int, into values: inout [Int64]) throws {
        values.removeAll(keepingCapacity: true)
        values.append(contentsOf: repeatElement(0, count: count))
        try values.withUnsafeMutableBytes { try read(start: [start], count: [count], memType: scgrn_h5t_int64(), into: $0.baseAddress!) }
    }

    /// The block rows [row, row + rows) × columns [column, column + columns) of a 2-D numeric
    /// dataset as float64, row-major (rows × columns).
    func block(row: Int, rows: Int, column: Int, columns: Int, into values: inout [Double]) throws {
        values.removeAll(keepingCapacity: true)
        values.append(contentsOf: repeatElement(0, count: rows * columns))
        try values.withUnsafeMutableBytes {
            try read(start: [row, column], count: [rows, columns], memType: scgrn_h5t_double(), into: $0.baseAddress!)
        }
    }

    /// Strings [start, start + count) of a 1-D string dataset.
    func strings(_ start: Int, _ count: Int) throws -> [String] {
        guard typeClass == H5T_STRING else { throw fail("holds \(typeDescription), not strings") }
        if count == 0 { return [] }
        let fileSpace = H5Dget_space(id)
        defer { H5Sclose(fileSpace) }
        let s = [hsize_t(start)], c = [hsize_t(count)]
        if H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, s, nil, c, nil) < 0 { throw fail("cannot select a block") }
        let memSpace = H5Screate_simple(1, c, nil)
        defer { H5Sclose(memSpace) }
        return try HDF5File.readStrings(fileType: type, count: count, space: memSpace, what: { self.fail($0) }) { memType, buffer in
            H5Dread(id, memType, memSpace, fileSpace, scgrn_h5_default(), buffer)
        }
    }
}
